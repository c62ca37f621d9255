"""A Tokasaurus server (local; ``TOKASAURUS_BASE_URL``)."""

from .base import Client

__all__ = ["TokasaurusClient"]


class TokasaurusClient(Client):
    """A Tokasaurus server (local; ``TOKASAURUS_BASE_URL``)."""

    provider = "tokasaurus"
