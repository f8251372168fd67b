"""The stub's Anthropic surface, exercised through the official ``anthropic`` SDK."""

from __future__ import annotations

import json

import anthropic
import httpx
import pytest
from stub_harness import API_KEY


def _ask(client: anthropic.Anthropic, text: str) -> anthropic.types.Message:
    return client.messages.create(
        model="claude-test",
        max_tokens=100,
        system="You are terse.",
        messages=[{"role": "user", "content": text}],
    )


def test_message_parses_with_json_text_and_word_count_usage(
    anthropic_client: anthropic.Anthropic,
) -> None:
    message = _ask(anthropic_client, "Describe this chair please")
    block = message.content[0]
    assert block.type == "text"
    assert json.loads(block.text)["reply"] == "Stub reply to a 7-word prompt."
    assert set(json.loads(block.text)) == {"reply", "title", "description"}
    assert message.model == "claude-test"
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens == 7
    assert message.usage.output_tokens == len(block.text.split()) == 20


def test_system_as_text_blocks_counts(anthropic_client: anthropic.Anthropic) -> None:
    message = anthropic_client.messages.create(
        model="m",
        max_tokens=10,
        system=[{"type": "text", "text": "a b c"}],
        messages=[{"role": "user", "content": [{"type": "text", "text": "d e"}]}],
    )
    assert message.usage.input_tokens == 5


def test_tokens_marker_overrides_usage(anthropic_client: anthropic.Anthropic) -> None:
    message = _ask(anthropic_client, "[[stub:tokens=10,3]]")
    assert (message.usage.input_tokens, message.usage.output_tokens) == (10, 3)


def test_429_is_a_rate_limit_error(anthropic_client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.RateLimitError) as caught:
        _ask(anthropic_client, "[[stub:fault=429]]")
    assert caught.value.response.headers["retry-after"] == "1"
    assert caught.value.response.json()["type"] == "error"
    assert caught.value.response.json()["error"]["type"] == "rate_limit_error"


@pytest.mark.parametrize(
    ("fault", "error_type", "error_class"),
    [
        ("500", "api_error", anthropic.InternalServerError),
        ("503", "overloaded_error", anthropic.ServiceUnavailableError),
    ],
)
def test_5xx_errors(
    anthropic_client: anthropic.Anthropic,
    fault: str,
    error_type: str,
    error_class: type[anthropic.APIStatusError],
) -> None:
    with pytest.raises(error_class) as caught:
        _ask(anthropic_client, f"[[stub:fault={fault}]]")
    assert isinstance(caught.value, anthropic.InternalServerError)
    assert caught.value.status_code == int(fault)
    assert caught.value.response.json()["error"] == {
        "type": error_type,
        "message": caught.value.response.json()["error"]["message"],
    }


def test_malformed_body_fails_to_parse(anthropic_client: anthropic.Anthropic) -> None:
    with pytest.raises(json.JSONDecodeError):
        _ask(anthropic_client, "[[stub:fault=malformed]]")


def test_delay_makes_the_sdk_time_out(stub_url: str) -> None:
    client = anthropic.Anthropic(api_key=API_KEY, base_url=stub_url, max_retries=0, timeout=0.2)
    with pytest.raises(anthropic.APITimeoutError):
        _ask(client, "[[stub:delay_ms=1500]]")


def test_bearer_auth_token_is_accepted(stub_url: str) -> None:
    client = anthropic.Anthropic(auth_token="token-x", base_url=stub_url, max_retries=0)
    assert _ask(client, "hi").content


def test_missing_key_is_an_authentication_error(stub_url: str) -> None:
    response = httpx.post(
        f"{stub_url}/v1/messages",
        json={"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]},
    )
    assert response.status_code == 401
    assert response.json()["type"] == "error"
    assert response.json()["error"]["type"] == "authentication_error"


def test_missing_max_tokens_is_invalid(stub_url: str) -> None:
    response = httpx.post(
        f"{stub_url}/v1/messages",
        headers={"x-api-key": API_KEY},
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_rate_limit_marker_sets_anthropics_remaining_headers(
    anthropic_client: anthropic.Anthropic,
) -> None:
    raw = anthropic_client.messages.with_raw_response.create(
        model="claude-test",
        max_tokens=10,
        messages=[{"role": "user", "content": "hi [[stub:ratelimit=7,800]]"}],
    )
    assert raw.headers["anthropic-ratelimit-requests-remaining"] == "7"
    assert raw.headers["anthropic-ratelimit-tokens-remaining"] == "800"
