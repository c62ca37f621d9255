"""Fixtures: the demo's stand-in models served on 127.0.0.1 by the test kit's
`minions-stand-ins` binary, and loopback servers that never answer.
Nothing here reaches the internet or needs a key."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def stand_ins_binary() -> str:
    binary = os.environ.get("MINIONS_STAND_INS") or str(REPO / "target" / "debug" / "minions-stand-ins")
    if not Path(binary).exists():
        pytest.fail(
            f"{binary} is missing: build it with `cargo build -p minions-testkit --bin minions-stand-ins` "
            "or set MINIONS_STAND_INS"
        )
    return binary


@pytest.fixture()
def stand_ins(monkeypatch: pytest.MonkeyPatch):
    """Points OPENAI_* and OLLAMA_HOST at the demo's stand-ins for
    openai/gpt-4o and ollama/llama3.2."""
    process = subprocess.Popen(
        [stand_ins_binary()],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        words = shlex.split(line)
        assert words[:1] == ["export"], f"minions-stand-ins printed {line!r}"
        for assignment in words[1:]:
            name, _, value = assignment.partition("=")
            monkeypatch.setenv(name, value)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture()
def silent_server():
    """A loopback HTTP server that accepts connections and never answers: a
    model that hangs. Yields its base URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
                held.append(connection)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=2)
    for connection in held:
        connection.close()
    listener.close()


@pytest.fixture()
def closed_port_url() -> str:
    """A loopback URL where nothing listens."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}"
