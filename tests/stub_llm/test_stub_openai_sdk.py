"""The stub's OpenAI surface, exercised through the official ``openai`` SDK."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from stub_harness import API_KEY, read_journal

MESSAGES: list[openai.types.chat.ChatCompletionMessageParam] = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Describe this chair please"},
]


def test_completion_parses_with_json_content_and_word_count_usage(
    openai_client: openai.OpenAI,
) -> None:
    completion = openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, response_format={"type": "json_object"}
    )
    content = completion.choices[0].message.content
    assert content is not None
    assert json.loads(content) == {
        "reply": "Stub reply to a 7-word prompt.",
        "title": "Stub listing title",
        "description": "A deterministic description written by the stub LLM.",
    }
    assert completion.model == "gpt-4o-mini"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    # 3 system words + 4 user words; output = words of the content string.
    assert completion.usage.prompt_tokens == 7
    assert completion.usage.completion_tokens == len(content.split()) == 20
    assert completion.usage.total_tokens == 27


def test_answers_are_deterministic(openai_client: openai.OpenAI) -> None:
    first = openai_client.chat.completions.create(model="m", messages=MESSAGES)
    second = openai_client.chat.completions.create(model="m", messages=MESSAGES)
    assert first.choices[0].message.content == second.choices[0].message.content
    assert first.usage == second.usage
    assert first.id != second.id


def test_content_part_arrays_count_text_parts_only(openai_client: openai.OpenAI) -> None:
    completion = openai_client.chat.completions.create(
        model="m",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "one two"},
                    {"type": "image_url", "image_url": {"url": "https://example.test/x.png"}},
                    {"type": "text", "text": "three"},
                ],
            }
        ],
    )
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 3


def test_tokens_marker_overrides_usage(openai_client: openai.OpenAI) -> None:
    completion = openai_client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi [[stub:tokens=1234,56]]"}]
    )
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (1234, 56)
    assert completion.usage.total_tokens == 1290


def test_rate_limit_marker_sets_the_remaining_headers(
    openai_client: openai.OpenAI, stub_url: str
) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model="m", messages=[{"role": "user", "content": "hi [[stub:ratelimit=4990,159000]]"}]
    )
    assert raw.headers["x-ratelimit-remaining-requests"] == "4990"
    assert raw.headers["x-ratelimit-remaining-tokens"] == "159000"
    assert read_journal(stub_url)[-1]["rate_limits"] == [4990, 159000]


def test_a_failure_states_no_rate_limits(openai_client: openai.OpenAI, stub_url: str) -> None:
    with pytest.raises(openai.InternalServerError) as failed:
        openai_client.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "[[stub:ratelimit=1,2]] [[stub:fault=500]]"}],
        )
    assert "x-ratelimit-remaining-requests" not in failed.value.response.headers
    assert read_journal(stub_url)[-1]["rate_limits"] is None


def _fail(client: openai.OpenAI, fault: str) -> None:
    client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": f"x [[stub:fault={fault}]]"}]
    )


def test_429_is_a_rate_limit_error_with_retry_after(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        _fail(openai_client, "429")
    assert caught.value.response.headers["retry-after"] == "1"
    assert caught.value.body == {
        "message": "Rate limit reached for requests (stub fault injection). "
        "Please try again in 1s.",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }


@pytest.mark.parametrize("fault", ["500", "503"])
def test_5xx_is_an_internal_server_error(openai_client: openai.OpenAI, fault: str) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        _fail(openai_client, fault)
    assert caught.value.status_code == int(fault)
    assert isinstance(caught.value, openai.APIStatusError)
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["type"] == "server_error"
    assert set(caught.value.body) == {"message", "type", "param", "code"}


def test_a_faults_error_text_quotes_the_error_ref(openai_client: openai.OpenAI) -> None:
    """A backend that copies provider text into a label or a log carries the reference."""
    text = "x [[stub:fault=500]] [[stub:error_ref=pt-canary-QRST]]"
    with pytest.raises(openai.InternalServerError) as caught:
        openai_client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": text}]
        )
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["message"].endswith("Sorry about that! (ref pt-canary-QRST)")
    assert "pt-canary-QRST" in str(caught.value)


def test_fault_header_works_without_a_marker(stub_url: str) -> None:
    client = openai.OpenAI(
        api_key=API_KEY,
        base_url=f"{stub_url}/v1",
        max_retries=0,
        default_headers={"X-Stub-Fault": "503"},
    )
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="m", messages=MESSAGES)
    assert read_journal(stub_url)[-1]["fault"] == "503"


def test_malformed_is_a_200_the_sdk_cannot_parse(
    openai_client: openai.OpenAI, stub_url: str
) -> None:
    with pytest.raises(json.JSONDecodeError):
        _fail(openai_client, "malformed")
    raw = httpx.post(
        f"{stub_url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {API_KEY}"},
        json={"model": "m", "messages": [{"role": "user", "content": "[[stub:fault=malformed]]"}]},
    )
    assert raw.status_code == 200
    with pytest.raises(ValueError):
        json.loads(raw.text)


def test_delay_makes_the_sdk_time_out(stub_url: str) -> None:
    client = openai.OpenAI(api_key=API_KEY, base_url=f"{stub_url}/v1", max_retries=0, timeout=0.2)
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "[[stub:delay_ms=1500]]"}]
        )


def test_missing_key_is_a_provider_shaped_401(stub_url: str) -> None:
    response = httpx.post(
        f"{stub_url}/v1/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_any_non_empty_key_is_accepted(stub_url: str) -> None:
    client = openai.OpenAI(api_key="x", base_url=f"{stub_url}/v1", max_retries=0)
    assert client.chat.completions.create(model="m", messages=MESSAGES).choices


def test_invalid_marker_is_a_bad_request(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        _fail(openai_client, "418")
    assert "unknown stub fault" in str(caught.value)


@pytest.mark.parametrize(
    "body",
    [{"messages": [{"role": "user", "content": "x"}]}, {"model": "m", "messages": []}, [1, 2]],
)
def test_invalid_request_bodies_are_400(stub_url: str, body: object) -> None:
    response = httpx.post(
        f"{stub_url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {API_KEY}"},
        json=body,
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
