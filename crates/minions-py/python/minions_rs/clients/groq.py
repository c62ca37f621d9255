"""Groq (``GROQ_API_KEY``)."""

from .base import Client

__all__ = ["GroqClient"]


class GroqClient(Client):
    """Groq (``GROQ_API_KEY``)."""

    provider = "groq"
