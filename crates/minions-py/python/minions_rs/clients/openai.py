"""OpenAI (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``)."""

from .base import Client

__all__ = ["OpenAIClient"]


class OpenAIClient(Client):
    """OpenAI (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``)."""

    provider = "openai"
