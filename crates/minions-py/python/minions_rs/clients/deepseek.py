"""DeepSeek (``DEEPSEEK_API_KEY``)."""

from .base import Client

__all__ = ["DeepSeekClient"]


class DeepSeekClient(Client):
    """DeepSeek (``DEEPSEEK_API_KEY``)."""

    provider = "deepseek"
