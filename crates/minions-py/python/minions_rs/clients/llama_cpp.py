"""A llama.cpp server (local; ``LLAMACPP_BASE_URL``, default http://127.0.0.1:8080/v1)."""

from .base import Client

__all__ = ["LlamaCppClient"]


class LlamaCppClient(Client):
    """A llama.cpp server (local; ``LLAMACPP_BASE_URL``, default http://127.0.0.1:8080/v1)."""

    provider = "llamacpp"
