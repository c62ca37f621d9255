"""An mlx_lm server (local; ``MLX_BASE_URL``)."""

from .base import Client

__all__ = ["MLXLMClient"]


class MLXLMClient(Client):
    """An mlx_lm server (local; ``MLX_BASE_URL``)."""

    provider = "mlx"
