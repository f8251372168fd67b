"""Provider calls through the real ``openai``/``anthropic`` SDKs against the stub LLM."""

from __future__ import annotations

from typing import Any

import pytest
from backend_harness import API_KEY, LLM_KEY, ClientFactory, chat_body, labels, read_journal, scrape
from scanium_backend.assistant import FALLBACK_REPLY, parse_reply
from scanium_backend.providers import ProviderFailure, ProviderResult

AUTH = {"X-API-Key": API_KEY}
PROVIDERS = ("openai", "claude")
STUB_API = {"openai": "openai", "claude": "anthropic"}


def _chat(client: Any, message: str) -> Any:
    response = client.post("/v1/assist/chat", headers=AUTH, json=chat_body(message))
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_success_reads_the_json_reply(
    make_client: ClientFactory, stub_url: str, provider: str
) -> None:
    body = _chat(make_client(provider=provider), "Price this chair")
    assert body["reply"].startswith("Stub reply to a ")
    assert body["actions"][0]["payload"]["title"] == "Stub listing title"
    assert "assistantError" not in body
    (entry,) = read_journal(stub_url)
    assert entry["api"] == STUB_API[provider]
    assert entry["api_key_present"] is True


def test_openai_request_shape(make_client: ClientFactory, stub_url: str) -> None:
    _chat(make_client(provider="openai", env={"OPENAI_MODEL": "gpt-test"}), "hi")
    (entry,) = read_journal(stub_url)
    assert entry["path"] == "/v1/chat/completions"
    assert entry["model"] == "gpt-test"
    assert entry["response_format"] == {"type": "json_object"}
    assert [m["role"] for m in entry["messages"]] == ["system", "user"]


def test_claude_request_shape(make_client: ClientFactory, stub_url: str) -> None:
    _chat(make_client(provider="claude", env={"CLAUDE_MODEL": "claude-test"}), "hi")
    (entry,) = read_journal(stub_url)
    assert (entry["path"], entry["model"]) == ("/v1/messages", "claude-test")
    assert [m["role"] for m in entry["messages"]] == ["system", "user"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_user_text_reaches_the_llm_verbatim(
    make_client: ClientFactory, stub_url: str, provider: str
) -> None:
    message = 'Quote "this" \\ and ünïcödé\n\ttabs [[stub:tokens=1,1]] {json: true} <b>'
    _chat(make_client(provider=provider), message)
    (entry,) = read_journal(stub_url)
    user_text = entry["messages"][-1]["text"]
    assert user_text.endswith(message)
    assert "Oak chair" in user_text


def test_history_is_forwarded(make_client: ClientFactory, stub_url: str) -> None:
    client = make_client(provider="openai")
    body = chat_body("now?", history=[
        {"role": "user", "content": "earlier question"},
        {"role": "assistant", "content": "earlier answer"},
    ])  # fmt: skip
    assert client.post("/v1/assist/chat", headers=AUTH, json=body).status_code == 200
    (entry,) = read_journal(stub_url)
    assert [(m["role"], m["text"]) for m in entry["messages"][1:3]] == [
        ("user", "earlier question"),
        ("assistant", "earlier answer"),
    ]


FAULTS = [
    ("[[stub:fault=429]]", "rate_limited", "PROVIDER_RATE_LIMITED"),
    ("[[stub:fault=500]]", "provider_error", "PROVIDER_SERVER_ERROR"),
    ("[[stub:fault=503]]", "provider_error", "PROVIDER_UNAVAILABLE"),
    ("[[stub:fault=malformed]]", "invalid_response", "MALFORMED_PROVIDER_RESPONSE"),
    ("[[stub:delay_ms=1000]]", "timeout", "PROVIDER_TIMEOUT"),
]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("marker", "error_type", "reason_code"), FAULTS)
def test_provider_failure_is_a_200_fallback_with_error_metrics(
    make_client: ClientFactory,
    stub_url: str,
    provider: str,
    marker: str,
    error_type: str,
    reason_code: str,
) -> None:
    client = make_client(provider=provider, env={"SCANIUM_ASSISTANT_TIMEOUT_MS": "250"})
    body = _chat(client, f"please fail {marker}")
    assert body["reply"] == FALLBACK_REPLY
    assert body["actions"] == []
    assert body["fromCache"] is False
    assert body["safety"]["blocked"] is False
    assert body["assistantError"]["type"] == error_type
    assert body["assistantError"]["reasonCode"] == reason_code
    assert isinstance(body["assistantError"]["message"], str)
    assert LLM_KEY not in str(body)
    samples = scrape(client)
    error_labels = labels(provider=provider, error_type=error_type, reason_code=reason_code)
    assert samples[("scanium_assistant_errors_total", error_labels)] == 1.0
    request_labels = labels(provider=provider, status="error", cache_hit="false")
    assert samples[("scanium_assistant_requests_total", request_labels)] == 1.0
    assert "scanium_assistant_tokens_used_count" not in {k[0] for k in samples}
    # max retries 0: exactly one LLM call.
    assert len(read_journal(stub_url)) <= 1


def test_failures_are_not_cached(make_client: ClientFactory, stub_url: str) -> None:
    client = make_client(provider="openai")
    assert "assistantError" in _chat(client, "[[stub:fault=500]]")
    assert "assistantError" in _chat(client, "[[stub:fault=500]]")
    assert len(read_journal(stub_url)) == 2


def test_default_sdk_retries_reach_the_llm_three_times(
    make_client: ClientFactory, stub_url: str
) -> None:
    env = {"SCANIUM_ASSISTANT_MAX_RETRIES": "2"}
    body = _chat(make_client(provider="openai", env=env), "[[stub:fault=500]]")
    assert body["assistantError"]["reasonCode"] == "PROVIDER_SERVER_ERROR"
    entries = read_journal(stub_url)
    assert [entry["status"] for entry in entries] == [500, 500, 500]
    assert [entry["sdk_retry_count"] for entry in entries] == [0, 1, 2]


def test_unreachable_provider(make_client: ClientFactory) -> None:
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    body = _chat(make_client(provider="openai", env=env), "hello")
    assert body["assistantError"]["type"] == "connection_error"
    assert body["assistantError"]["reasonCode"] == "PROVIDER_UNREACHABLE"


@pytest.mark.parametrize(
    ("content", "reason_code"),
    [
        (None, "EMPTY_PROVIDER_RESPONSE"),
        ("", "EMPTY_PROVIDER_RESPONSE"),
        ("not json", "INVALID_JSON_CONTENT"),
        ("[1, 2]", "INVALID_JSON_CONTENT"),
        ('{"other": 1}', "MISSING_REPLY_FIELDS"),
    ],
)
def test_unusable_content_is_an_invalid_response(content: str | None, reason_code: str) -> None:
    with pytest.raises(ProviderFailure) as caught:
        parse_reply(ProviderResult(content=content, usage=None))
    assert (caught.value.error_type, caught.value.reason_code) == ("invalid_response", reason_code)


def test_reply_falls_back_to_title_and_description() -> None:
    fields = parse_reply(ProviderResult(content='{"title": "T", "description": "D"}', usage=None))
    assert fields["reply"] == "T\n\nD"
