"""minions_rs: the Minion and Minions protocols on the minions-rs Rust engine.

The reference's shapes, with the import changed::

    from minions_rs.clients.ollama import OllamaClient
    from minions_rs.clients.openai import OpenAIClient
    from minions_rs.minion import Minion

    minion = Minion(OllamaClient(model_name="llama3.2"), OpenAIClient(model_name="gpt-4o"))
    output = minion(task=task, context=[context], max_rounds=2)
    print(output["final_answer"])
"""

from ._native import __version__, known_providers
from .clients import *  # noqa: F401,F403  (every client class, and client())
from .clients import __all__ as _clients
from .errors import ConfigurationError, MinionsError, RunError
from .protocols import Minion, Minions

__all__ = [
    "__version__",
    "known_providers",
    "Minion",
    "Minions",
    "MinionsError",
    "ConfigurationError",
    "RunError",
    *_clients,
]
