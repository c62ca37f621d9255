"""Together AI (``TOGETHER_API_KEY``)."""

from .base import Client

__all__ = ["TogetherClient"]


class TogetherClient(Client):
    """Together AI (``TOGETHER_API_KEY``)."""

    provider = "together"
