"""OpenRouter (``OPENROUTER_API_KEY``)."""

from .base import Client

__all__ = ["OpenRouterClient"]


class OpenRouterClient(Client):
    """OpenRouter (``OPENROUTER_API_KEY``)."""

    provider = "openrouter"
