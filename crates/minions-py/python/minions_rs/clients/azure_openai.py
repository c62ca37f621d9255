"""Azure OpenAI (``AZURE_OPENAI_API_KEY``, ``AZURE_OPENAI_ENDPOINT``,
``AZURE_OPENAI_API_VERSION``)."""

from __future__ import annotations

import json
from typing import Any, Optional

from .._native import check_client
from .base import Client

__all__ = ["AzureOpenAIClient"]


class AzureOpenAIClient(Client):
    """Azure OpenAI. ``model_name`` is the deployment name; ``azure_endpoint``
    and ``api_version`` as in the reference (and the ``openai`` package)."""

    provider = "azure"

    def __init__(
        self,
        model_name: str,
        *,
        api_key: Optional[str] = None,
        azure_endpoint: Optional[str] = None,
        api_version: Optional[str] = None,
        temperature: Optional[float] = None,
        max_tokens: Optional[int] = None,
        **reference_only: Any,
    ) -> None:
        super().__init__(
            model_name,
            api_key=api_key,
            base_url=azure_endpoint,
            temperature=temperature,
            max_tokens=max_tokens,
            **reference_only,
        )
        self.api_version = api_version
        if api_version is not None:
            check_client(json.dumps(self._spec()), True)
