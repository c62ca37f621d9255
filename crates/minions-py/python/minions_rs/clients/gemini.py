"""Google Gemini through its OpenAI-compatible API (``GEMINI_API_KEY``)."""

from .base import Client

__all__ = ["GeminiClient"]


class GeminiClient(Client):
    """Google Gemini through its OpenAI-compatible API (``GEMINI_API_KEY``)."""

    provider = "gemini"
