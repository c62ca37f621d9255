"""A run does not hold the GIL, Ctrl-C stops it, and asyncio callers can
await and cancel it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from minions_rs import Minion
from minions_rs.clients.ollama import OllamaClient
from minions_rs.clients.openai import OpenAIClient

CONTEXT = ["His blood pressure was recorded at 160/100 mmHg. His LDL cholesterol level is 170 mg/dL."]
TASK = "What are the patient's blood pressure and LDL cholesterol readings?"


def test_acall_answers(stand_ins):
    minion = Minion(OllamaClient(model_name="llama3.2"), OpenAIClient(model_name="gpt-4o"))
    output = asyncio.run(minion.acall(task=TASK, context=CONTEXT, max_rounds=1))
    assert "160/100" in output["final_answer"]


def test_the_event_loop_runs_while_a_run_waits_and_cancelling_stops_it(stand_ins, silent_server):
    minion = Minion(OllamaClient(model_name="llama3.2", base_url=silent_server), OpenAIClient(model_name="gpt-4o"))

    async def main() -> tuple[int, float]:
        task = asyncio.ensure_future(minion.acall(task=TASK, context=CONTEXT, max_rounds=1))
        ticks = 0
        started = time.monotonic()
        while time.monotonic() - started < 1.0:
            await asyncio.sleep(0.01)
            ticks += 1
        assert not task.done()
        cancelled_at = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return ticks, time.monotonic() - cancelled_at

    ticks, to_cancel = asyncio.run(main())
    # The loop kept turning (a run holding the GIL would freeze it) ...
    assert ticks >= 30, ticks
    # ... and the cancelled run let go at once.
    assert to_cancel < 5, to_cancel


def test_ctrl_c_stops_a_run_and_reports_what_it_spent(stand_ins, silent_server):
    script = textwrap.dedent(
        f"""
        import signal, sys
        # As in a terminal: a parent that started us in the background (CI
        # scripts do) leaves SIGINT ignored, and Python then keeps it so.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from minions_rs import Minion
        from minions_rs.clients.ollama import OllamaClient
        from minions_rs.clients.openai import OpenAIClient
        minion = Minion(OllamaClient(model_name="llama3.2", base_url={silent_server!r}), OpenAIClient(model_name="gpt-4o"))
        print("started", flush=True)
        minion(task={TASK!r}, context={CONTEXT!r}, max_rounds=1)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "started"
    time.sleep(1.5)  # the local model hangs (its probe or its first call)
    assert process.poll() is None
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=20)
    assert time.monotonic() - sent < 10
    assert process.returncode != 0
    assert "KeyboardInterrupt" in stderr, stderr
    # What it spent, however little, and why it ended.
    assert "minions_rs: interrupted\nremote openai/gpt-4o:" in stderr, stderr
    assert "\ncancelled\n" in stderr, stderr
