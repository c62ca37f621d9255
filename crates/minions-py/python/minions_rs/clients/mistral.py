"""Mistral (``MISTRAL_API_KEY``)."""

from .base import Client

__all__ = ["MistralClient"]


class MistralClient(Client):
    """Mistral (``MISTRAL_API_KEY``)."""

    provider = "mistral"
