"""Perplexity (``PERPLEXITY_API_KEY``)."""

from .base import Client

__all__ = ["PerplexityClient"]


class PerplexityClient(Client):
    """Perplexity (``PERPLEXITY_API_KEY``)."""

    provider = "perplexity"
