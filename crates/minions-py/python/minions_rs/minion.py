"""``from minions_rs.minion import Minion``, as ``minions.minion`` in the reference."""

from .protocols import Minion

__all__ = ["Minion"]
