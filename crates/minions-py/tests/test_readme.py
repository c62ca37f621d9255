"""The reference README's two examples, imports changed, against the demo's
stand-ins: both return the answer, with the reference's keys and our bill."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.mark.parametrize("example", ["readme_minion.py", "readme_minions.py"])
def test_the_reference_examples_return_the_answer(stand_ins, example):
    output = runpy.run_path(str(HERE / example))["output"]
    answer = output["final_answer"]
    assert "160/100 mmHg" in answer and "170 mg/dL" in answer, answer
    assert output["answered"] is True
    assert output["stop"]["kind"] == "answered"
    for key in ("supervisor_messages", "worker_messages", "remote_usage", "local_usage"):
        assert output[key], key
    assert output["remote_usage"]["prompt_tokens"] > 0
    assert output["local_usage"]["prompt_tokens"] > 0
    # Priced as gpt-4o: what it spent and what reading everything remotely would have.
    assert output["remote_cost_usd"] > 0
    assert output["remote_only_cost_usd"] > 0
    assert "remote openai/gpt-4o" in output["summary"]
    # The remote model never saw the document: no message of its carries the
    # report's sentences.
    for message in output["supervisor_messages"]:
        assert "renal function" not in message["content"]


def test_one_client_for_any_provider_and_the_flat_imports(stand_ins):
    import minions_rs

    minion = minions_rs.Minion(minions_rs.client("ollama/llama3.2"), minions_rs.client("openai/gpt-4o"))
    output = minion(
        task="What are the patient's blood pressure and LDL cholesterol readings?",
        context=["His blood pressure was recorded at 160/100 mmHg. His LDL cholesterol level is 170 mg/dL."],
        max_rounds=1,
        budget_usd=1.0,
    )
    assert output["answered"], output["summary"]
    assert "ollama" in minions_rs.known_providers()
    assert minions_rs.__version__
