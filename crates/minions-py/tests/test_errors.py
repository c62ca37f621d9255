"""Errors are Python exceptions with the engine's messages, raised before
anything is spent when the call itself is wrong."""

from __future__ import annotations

import pytest

import minions_rs
from minions_rs import ConfigurationError, Minion, Minions, RunError
from minions_rs.clients.ollama import OllamaClient
from minions_rs.clients.openai import OpenAIClient

CONTEXT = ["His blood pressure was recorded at 160/100 mmHg."]


def test_a_missing_key_names_its_variable(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        OpenAIClient(model_name="gpt-4o")


def test_an_unknown_provider_lists_the_known_ones():
    with pytest.raises(ConfigurationError, match="openai"):
        minions_rs.client("openia/gpt-4o")
    with pytest.raises(ConfigurationError, match="provider/model"):
        minions_rs.client("gpt-4o")


def test_bad_options_say_what_to_change(stand_ins):
    minion = Minion(OllamaClient(model_name="llama3.2"), OpenAIClient(model_name="gpt-4o"))
    with pytest.raises(ConfigurationError, match="max_rounds must be between 1 and 20, not 0"):
        minion(task="What is the blood pressure?", context=CONTEXT, max_rounds=0)
    with pytest.raises(ConfigurationError, match="unknown option `max_round`; known options: .*max_rounds"):
        minion(task="What is the blood pressure?", context=CONTEXT, max_round=2)
    with pytest.raises(ConfigurationError, match="list of strings"):
        minion(task="What is the blood pressure?", context=CONTEXT[0])
    with pytest.raises(ConfigurationError, match="`context` holds no text"):
        minion(task="What is the blood pressure?", context=["  "])
    with pytest.raises(TypeError, match="unexpected argument"):
        OllamaClient(model_name="llama3.2", temprature=0.0)
    with pytest.raises(TypeError, match="minions_rs client"):
        Minion("ollama/llama3.2", OpenAIClient(model_name="gpt-4o"))


@pytest.mark.parametrize("protocol", [Minion, Minions])
def test_an_unreachable_local_server_fails_with_the_bill(stand_ins, closed_port_url, protocol):
    run = protocol(OllamaClient(model_name="llama3.2", base_url=closed_port_url), OpenAIClient(model_name="gpt-4o"))
    with pytest.raises(RunError) as raised:
        run(task="What is the blood pressure?", context=CONTEXT, max_rounds=1)
    message = str(raised.value)
    assert closed_port_url.split("//")[1] in message or "reach" in message, message
    result = raised.value.result
    assert result["answered"] is False
    assert "remote openai/gpt-4o" in result["summary"]
