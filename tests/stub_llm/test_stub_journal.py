"""The journal at ``/_stub/requests``: contents, credential masking, reset, and clean logs."""

from __future__ import annotations

import json
import logging

import anthropic
import httpx
import openai
import pytest
from stub_harness import API_KEY, read_journal
from stub_llm.json_logging import JsonFormatter


def test_health(stub_url: str) -> None:
    response = httpx.get(f"{stub_url}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_entry_records_request_and_outcome(openai_client: openai.OpenAI, stub_url: str) -> None:
    openai_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "sys words"},
            {"role": "user", "content": "hello [[stub:tokens=3,4]]"},
        ],
        response_format={"type": "json_object"},
    )
    (entry,) = read_journal(stub_url)
    assert entry["api"] == "openai"
    assert entry["path"] == "/v1/chat/completions"
    assert entry["model"] == "gpt-4o-mini"
    assert isinstance(entry["time"], float)
    assert entry["messages"] == [
        {"role": "system", "text": "sys words"},
        {"role": "user", "text": "hello [[stub:tokens=3,4]]"},
    ]
    assert entry["text"] == "sys words\nhello [[stub:tokens=3,4]]"
    assert entry["response_format"] == {"type": "json_object"}
    assert entry["usage"] == {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}
    assert entry["fault"] is None
    assert entry["status"] == 200
    assert entry["api_key_present"] is True
    assert entry["sdk_retry_count"] == 0


def test_failed_requests_are_journaled_with_their_fault(
    anthropic_client: anthropic.Anthropic, stub_url: str
) -> None:
    with pytest.raises(anthropic.RateLimitError):
        anthropic_client.messages.create(
            model="c",
            max_tokens=5,
            messages=[{"role": "user", "content": "[[stub:fault=429]] [[stub:delay_ms=10]]"}],
        )
    (entry,) = read_journal(stub_url)
    assert (entry["api"], entry["fault"], entry["delay_ms"], entry["status"]) == (
        "anthropic",
        "429",
        10,
        429,
    )
    assert entry["usage"] is None


def test_credentials_are_recorded_by_presence_only(stub_url: str) -> None:
    openai.OpenAI(
        api_key=API_KEY, base_url=f"{stub_url}/v1", max_retries=0
    ).chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    anthropic.Anthropic(api_key=API_KEY, base_url=stub_url, max_retries=0).messages.create(
        model="m", max_tokens=5, messages=[{"role": "user", "content": "hi"}]
    )
    httpx.post(
        f"{stub_url}/v1/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
    )
    raw = httpx.get(f"{stub_url}/_stub/requests").text
    # Not the key, and not a masked fragment of it either.
    for fragment in (API_KEY, API_KEY[:6], API_KEY[-4:], "Bearer"):
        assert fragment not in raw
    assert [entry["api_key_present"] for entry in json.loads(raw)] == [True, True, False]
    assert json.loads(raw)[-1]["status"] == 401


def test_sdk_retries_show_as_three_entries(stub_url: str) -> None:
    client = openai.OpenAI(api_key=API_KEY, base_url=f"{stub_url}/v1", max_retries=2)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "[[stub:fault=500]]"}]
        )
    entries = read_journal(stub_url)
    assert [entry["status"] for entry in entries] == [500, 500, 500]
    assert [entry["sdk_retry_count"] for entry in entries] == [0, 1, 2]


def test_reset_clears_the_journal(openai_client: openai.OpenAI, stub_url: str) -> None:
    openai_client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert len(read_journal(stub_url)) == 1
    assert httpx.post(f"{stub_url}/_stub/reset").json() == {"cleared": 1}
    assert read_journal(stub_url) == []


def test_logs_never_contain_the_key_or_the_prompt(
    stub_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    canary_prompt = "prompt-canary-91b2"
    with caplog.at_level(logging.DEBUG):
        client = openai.OpenAI(api_key=API_KEY, base_url=f"{stub_url}/v1", max_retries=0)
        client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": canary_prompt}]
        )
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "[[stub:fault=429]]"}]
            )
    formatter = JsonFormatter()
    stub_lines = [formatter.format(r) for r in caplog.records if r.name.startswith("stub_llm")]
    assert len(stub_lines) == 2
    for line in stub_lines:
        assert API_KEY not in line
        assert canary_prompt not in line
        assert json.loads(line)["msg"] == "request"
