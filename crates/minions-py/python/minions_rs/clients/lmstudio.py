"""LM Studio (local; ``LMSTUDIO_BASE_URL``)."""

from .base import Client

__all__ = ["LMStudioClient"]


class LMStudioClient(Client):
    """LM Studio (local; ``LMSTUDIO_BASE_URL``)."""

    provider = "lmstudio"
