"""Anthropic (``ANTHROPIC_API_KEY``)."""

from .base import Client

__all__ = ["AnthropicClient"]


class AnthropicClient(Client):
    """Anthropic (``ANTHROPIC_API_KEY``)."""

    provider = "anthropic"
