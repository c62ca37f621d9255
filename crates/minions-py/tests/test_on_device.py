"""The on-device model, when the wheel was built with it (`--features llama`)
and MINIONS_PY_GGUF names a GGUF file."""

from __future__ import annotations

import os

import pytest

import minions_rs

GGUF = os.environ.get("MINIONS_PY_GGUF")


@pytest.mark.skipif(
    "gguf" not in minions_rs.known_providers() or not GGUF,
    reason="built without the on-device model, or MINIONS_PY_GGUF unset",
)
def test_the_on_device_model_reads_for_the_remote(stand_ins):
    minion = minions_rs.Minion(minions_rs.client(f"gguf/{GGUF}", max_tokens=64), minions_rs.client("openai/gpt-4o"))
    output = minion(
        task="What are the patient's blood pressure and LDL cholesterol readings?",
        context=["His blood pressure was recorded at 160/100 mmHg. His LDL cholesterol level is 170 mg/dL."],
        max_rounds=1,
    )
    assert output["local_usage"]["prompt_tokens"] > 0
    assert output["final_answer"]
