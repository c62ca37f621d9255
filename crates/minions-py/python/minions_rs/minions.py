"""``from minions_rs.minions import Minions``, as ``minions.minions`` in the reference."""

from .protocols import Minions

__all__ = ["Minions"]
