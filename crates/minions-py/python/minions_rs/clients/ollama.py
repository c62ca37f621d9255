"""Ollama (local; ``OLLAMA_HOST``, default http://127.0.0.1:11434)."""

from .base import Client

__all__ = ["OllamaClient"]


class OllamaClient(Client):
    """Ollama (local; ``OLLAMA_HOST``, default http://127.0.0.1:11434)."""

    provider = "ollama"
