"""The exceptions of minions_rs."""

from __future__ import annotations

from typing import Any

from ._native import ConfigurationError, MinionsError

__all__ = ["MinionsError", "ConfigurationError", "RunError"]


class RunError(MinionsError):
    """A run that started and failed (a provider error after retries, a budget,
    a local server that went away). ``result`` holds what it did and spent, in the
    same shape as a successful call's return value."""

    def __init__(self, message: str, result: dict[str, Any]):
        super().__init__(message)
        self.result = result
