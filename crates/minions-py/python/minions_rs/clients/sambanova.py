"""SambaNova (``SAMBANOVA_API_KEY``)."""

from .base import Client

__all__ = ["SambanovaClient"]


class SambanovaClient(Client):
    """SambaNova (``SAMBANOVA_API_KEY``)."""

    provider = "sambanova"
