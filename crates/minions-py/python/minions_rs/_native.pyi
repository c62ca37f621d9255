"""The compiled core of minions_rs (PyO3). Use the package's public names instead."""

__version__: str

class MinionsError(Exception): ...
class ConfigurationError(MinionsError): ...

class Run:
    """A run, started when made from a JSON request."""

    def __init__(self, request: str) -> None: ...
    def wait(self) -> str:
        """Blocks until the run ends (GIL released; Ctrl-C cancels it) and returns its outcome as JSON."""
    def outcome(self) -> str | None:
        """The outcome as JSON once the run has ended."""
    def cancel(self) -> None:
        """Asks the run to stop; it still reports what it spent."""

def check_client(spec: str, local: bool) -> None:
    """Builds a client's model once, raising ConfigurationError when it cannot be made."""

def known_providers() -> list[str]:
    """The providers this build knows."""
