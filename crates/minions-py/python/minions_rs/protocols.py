"""Minion and Minions, called as in the reference:
``Minion(local_client, remote_client)(task=..., context=[...], max_rounds=2)``."""

from __future__ import annotations

import asyncio
import json
import sys
import warnings
from typing import Any, Optional, Sequence

from ._native import Run
from .clients.base import Client
from .errors import ConfigurationError, RunError

# Reference arguments with no equivalent here: the remote model plans how many
# tasks and samples a round needs, and logs are the returned transcript.
_IGNORED = ("logging_id", "num_tasks_per_round", "num_samples_per_task", "use_bm25", "mcp_tools_info")


def _result(outcome: dict[str, Any]) -> dict[str, Any]:
    """The reference's keys, then ours: what was spent, what reading the whole
    context remotely would have cost, and the full transcript."""
    transcript = outcome["transcript"]
    result = transcript["result"]
    events = transcript.get("events", [])
    supervisor = [
        {"role": "assistant", "step": e.get("step"), "content": e["content"]}
        for e in events
        if e.get("type") == "remote_message"
    ]
    worker: list[dict[str, Any]] = [
        {"role": "assistant", "content": e["content"]}
        for e in events
        if e.get("type") == "local_message"
    ]
    worker += [
        {
            "role": "assistant",
            "task": e.get("task"),
            "chunk": e.get("chunk"),
            "content": e.get("answer"),
            "explanation": e.get("explanation"),
            "citation": e.get("citation"),
            "error": e.get("error"),
        }
        for e in events
        if e.get("type") == "job_finished"
    ]
    return {
        "final_answer": result["answer"],
        "supervisor_messages": supervisor,
        "worker_messages": worker,
        "remote_usage": result["remote_usage"],
        "local_usage": result["local_usage"],
        "answered": outcome["answered"],
        "stop": result["stop"],
        "rounds": result["rounds"],
        "remote_cost_usd": outcome["remote_cost_usd"],
        "remote_only_cost_usd": result["remote_only"]["cost_usd"],
        "summary": outcome["summary"],
        "savings_ratio": result.get("savings_ratio"),
        "timing": result["timing"],
        "error": outcome.get("error"),
        "transcript": transcript,
    }


class _Protocol:
    protocol = ""

    def __init__(
        self,
        local_client: Client,
        remote_client: Client,
        max_rounds: Optional[int] = None,
        callback: Any = None,
        log_dir: Optional[str] = None,
        **options: Any,
    ) -> None:
        for name, given in (("local_client", local_client), ("remote_client", remote_client)):
            if not isinstance(given, Client):
                raise TypeError(
                    f"{name} must be a minions_rs client (OllamaClient, OpenAIClient, client('provider/model'), ...), "
                    f"not {type(given).__name__}"
                )
        if callback is not None:
            warnings.warn(
                "callback is not called by minions_rs; the returned transcript holds every message",
                stacklevel=2,
            )
        self.local_client = local_client
        self.remote_client = remote_client
        self.max_rounds = max_rounds
        self.log_dir = log_dir
        self.options = options

    def _request(
        self,
        task: str,
        context: Sequence[str],
        max_rounds: Optional[int],
        doc_metadata: Optional[str],
        is_privacy: bool,
        images: Any,
        options: dict[str, Any],
    ) -> str:
        if isinstance(context, str):
            raise ConfigurationError("`context` is a list of strings (one per document), not a string: pass [context]")
        if images:
            raise ConfigurationError("images are not supported: pass the documents' text in `context`")
        for name in _IGNORED:
            if options.pop(name, None) is not None:
                warnings.warn(f"`{name}` has no effect in minions_rs (the remote model plans each round)", stacklevel=3)
        merged: dict[str, Any] = {}
        merged.update(self.local_client._options("local"))
        merged.update(self.remote_client._options("remote"))
        merged.update(self.options)
        merged.update(options)
        rounds = max_rounds if max_rounds is not None else self.max_rounds
        if rounds is not None:
            merged["max_rounds"] = rounds
        if is_privacy:
            merged["privacy"] = True
        return json.dumps(
            {
                "protocol": self.protocol,
                "task": task,
                "context": [str(text) for text in context],
                "doc_metadata": doc_metadata,
                "local": self.local_client._spec(),
                "remote": self.remote_client._spec(),
                "options": merged,
            }
        )

    def _finish(self, outcome_json: str) -> dict[str, Any]:
        outcome = json.loads(outcome_json)
        result = _result(outcome)
        if self.log_dir:
            self._write_log(result)
        if outcome["cancelled"]:
            raise RunError("the run was cancelled: " + str(outcome["error"]), result)
        if not outcome["ok"]:
            raise RunError(str(outcome["error"]), result)
        return result

    def _write_log(self, result: dict[str, Any]) -> None:
        import os
        import time

        os.makedirs(self.log_dir, exist_ok=True)
        path = os.path.join(self.log_dir, f"{self.protocol}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.json")
        with open(path, "w", encoding="utf-8") as file:
            json.dump(result["transcript"], file, indent=2)

    def __call__(
        self,
        task: str,
        context: Sequence[str],
        max_rounds: Optional[int] = None,
        doc_metadata: Optional[str] = None,
        is_privacy: bool = False,
        images: Any = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Runs the protocol over ``context`` (a list of document texts) and returns
        a dict: ``final_answer``, ``supervisor_messages``, ``worker_messages``,
        ``remote_usage``, ``local_usage`` as in the reference, plus ``answered``,
        ``stop``, ``remote_cost_usd``, ``remote_only_cost_usd``, ``savings_ratio``
        and the full ``transcript``. Further keyword arguments are run options
        (``budget_usd``, ``chunk_size``, ``privacy``, ...; see docs/python.md).

        Raises ``ConfigurationError`` before anything is spent, ``RunError`` (with
        ``.result``) when a started run fails; Ctrl-C stops the run, prints what it
        spent on stderr and raises ``KeyboardInterrupt``."""
        run = Run(self._request(task, context, max_rounds, doc_metadata, is_privacy, images, options))
        try:
            outcome_json = run.wait()
        except KeyboardInterrupt:
            ended = run.outcome()
            if ended is not None:
                sys.stderr.write("minions_rs: interrupted\n" + json.loads(ended)["summary"] + "\n")
            raise
        return self._finish(outcome_json)

    async def acall(
        self,
        task: str,
        context: Sequence[str],
        max_rounds: Optional[int] = None,
        doc_metadata: Optional[str] = None,
        is_privacy: bool = False,
        images: Any = None,
        **options: Any,
    ) -> dict[str, Any]:
        """``__call__`` for asyncio: the run works on the engine's own threads while
        the event loop goes on; cancelling the awaiting task cancels the run."""
        run = Run(self._request(task, context, max_rounds, doc_metadata, is_privacy, images, options))
        try:
            outcome_json = await asyncio.shield(asyncio.get_running_loop().run_in_executor(None, run.wait))
        except asyncio.CancelledError:
            run.cancel()
            raise
        return self._finish(outcome_json)


class Minion(_Protocol):
    """Minion: the remote model chats with the local model, which reads the whole
    context. ``Minion(local_client, remote_client)``."""

    protocol = "minion"


class Minions(_Protocol):
    """Minions: the remote model plans small jobs over chunks of the context, the
    local model runs them in parallel, the remote model puts the findings
    together. ``Minions(local_client, remote_client)``."""

    protocol = "minions"
