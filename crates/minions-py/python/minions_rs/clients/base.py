"""Model clients: a provider, a model name and how to reach it.

A client only describes a model; the Rust engine builds and calls it. Keys and
URLs not given here come from the provider's usual variables
(``OPENAI_API_KEY``, ``OLLAMA_HOST``, ...), as in the CLI.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from .._native import check_client

# The reference's arguments that this engine does not need: it always asks the
# local model for its own JSON schema, sizes Ollama's context itself, and runs
# asynchronously inside. Accepted so that reference code runs unchanged.
_ACCEPTED_AND_UNUSED = ("structured_output_schema", "num_ctx", "use_async", "local")


class Client:
    """A model of one provider. ``client("provider/model")`` makes one for any
    provider; the named classes (``OllamaClient``, ``OpenAIClient``, ...) fix the
    provider as the reference does.

    ``temperature`` and ``max_tokens`` become the run's options for the side
    the client plays (``local_temperature``, ``remote_max_tokens``, ...) unless
    the call sets those itself. The client is checked when made: an unknown
    provider or a missing key raises ``ConfigurationError`` here.
    """

    provider: str = ""

    def __init__(
        self,
        model_name: str,
        *,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        temperature: Optional[float] = None,
        max_tokens: Optional[int] = None,
        provider: Optional[str] = None,
        **reference_only: Any,
    ) -> None:
        unknown = sorted(set(reference_only) - set(_ACCEPTED_AND_UNUSED))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}() got unexpected argument(s) {', '.join(unknown)}; "
                "it takes model_name, api_key, base_url, temperature and max_tokens"
            )
        self.provider = provider or self.provider
        self.model_name = model_name
        self.api_key = api_key
        self.base_url = base_url
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.api_version: Optional[str] = None
        # Built once as a local model (the more forgiving retry policy) just to
        # check it; the run builds its own for the side it plays.
        check_client(json.dumps(self._spec()), True)

    def _spec(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model_name,
            "api_key": self.api_key,
            "base_url": self.base_url,
            "api_version": self.api_version,
        }

    def _options(self, side: str) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.temperature is not None:
            options[f"{side}_temperature"] = self.temperature
        if self.max_tokens is not None:
            options[f"{side}_max_tokens"] = self.max_tokens
        return options

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.provider}/{self.model_name})"


def client(name: str, **kwargs: Any) -> Client:
    """A client for ``provider/model`` (``"ollama/llama3.2"``,
    ``"openai/gpt-4o"``, ``"gguf/path/to/model.gguf"`` when built with the
    on-device model), with the same keyword arguments as every client."""
    provider, slash, model = name.partition("/")
    if not slash or not provider or not model:
        from ..errors import ConfigurationError

        raise ConfigurationError(
            f"`{name}` is not `provider/model` (for example ollama/llama3.2 or openai/gpt-4o)"
        )
    return Client(model, provider=provider, **kwargs)
