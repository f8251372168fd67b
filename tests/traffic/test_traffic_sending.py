"""Sending behaviour against small fake backends: 429 retries, pacing, fail-fast errors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp
from traffic_harness import API_KEY, Served, chat_success_body, closed_port_url, fake_backend

from scanium_e2e.errors import EndpointError
from scanium_e2e.traffic import TrafficPlan, TrafficProgress, send_traffic
from scanium_e2e.traffic.send import retry_after_seconds

Serve = Callable[[ASGIApp], Served]


def successes_only(n: int, **overrides: object) -> TrafficPlan:
    """A plan of `n` successes and nothing else."""
    values: dict[str, object] = {
        "api_key": API_KEY,
        "run_id": "run-send",
        "successes": n,
        "provider_errors": 0,
        "validation_errors": 0,
        "unauthorized": 0,
        "unknown_route": 0,
    }
    values.update(overrides)
    return TrafficPlan(**values)  # type: ignore[arg-type]


def rate_limited_first(
    times: int, retry_after: str | None = "1", headers: dict[str, str] | None = None
) -> ASGIApp:
    """Answers the first `times` chat requests 429 RATE_LIMITED, then 200."""
    calls = 0

    async def chat(request: Request) -> Response:
        nonlocal calls
        calls += 1
        if calls <= times:
            return JSONResponse(
                {"error": {"code": "RATE_LIMITED", "message": "Too many requests"}},
                status_code=429,
                headers={
                    **({"Retry-After": retry_after} if retry_after is not None else {}),
                    **(headers or {}),
                },
            )
        return JSONResponse(chat_success_body())

    app: ASGIApp = fake_backend(chat)
    return app


def test_retry_after_is_honoured_and_the_retry_recorded(serve: Serve) -> None:
    server = serve(rate_limited_first(1))
    notes: list[str] = []
    started = time.monotonic()
    ledger = send_traffic(server.url, successes_only(1), progress=lambda p: notes.append(p.note))
    elapsed = time.monotonic() - started

    assert elapsed >= 1.0
    [entry] = ledger.entries
    assert (entry.http_status, entry.retries) == (200, 1)
    assert ledger.surprises == [] and ledger.retries == 1
    assert ledger.retry_wait_s == pytest.approx(1.0, abs=0.05)
    assert any("429 RATE_LIMITED" in note and "waiting 1 s" in note for note in notes)
    assert len(server.recorder.to("/v1/assist/chat")) == 2


def test_an_exhausted_retry_budget_is_a_surprise_not_an_exception(serve: Serve) -> None:
    server = serve(rate_limited_first(100, retry_after="5"))
    ledger = send_traffic(server.url, successes_only(2, retry_budget_s=1.0))

    assert [entry.http_status for entry in ledger.entries] == [429, 429]
    assert len(ledger.surprises) == 2
    assert "expected 200 with a reply, got 429 RATE_LIMITED" in ledger.surprises[0]


def test_rate_limits_are_named_with_the_wait(serve: Serve) -> None:
    """How many requests were limited, by which limit the answer names, how long it waited."""
    server = serve(rate_limited_first(1))
    ledger = send_traffic(server.url, successes_only(1))
    assert ledger.rate_limits == {'RATE_LIMITED "Too many requests"': 1}
    assert ledger.rate_limited_seqs == [0]
    note = ledger.rate_limit_note()
    assert note.startswith('rate limited: 1 answer HTTP 429 on 1 request (#0; RATE_LIMITED "Too')
    assert "; Retry-After on 1; 1.0 s waited before retrying" in note and note in ledger.summary()
    assert ledger.rate_limit_summary() == {
        "answers_429": 1,
        "requests": [0],
        "limits": {'RATE_LIMITED "Too many requests"': 1},
        "retry_after_answers": 1,
        "waited_s": 1.0,
    }

    policy = serve(rate_limited_first(2, headers={"RateLimit-Policy": "20;w=60;name=user"}))
    limited = send_traffic(policy.url, successes_only(1))
    assert limited.rate_limits == {"ratelimit-policy: 20;w=60;name=user": 2}
    assert "2 answers HTTP 429 on 1 request" in limited.rate_limit_note()
    unlimited = send_traffic(serve(rate_limited_first(0)).url, successes_only(1))
    assert unlimited.rate_limit_note() == "" and unlimited.rate_limit_summary() is None


def test_a_429_without_retry_after_is_not_said_to_have_one(serve: Serve) -> None:
    server = serve(rate_limited_first(1, retry_after=None))
    ledger = send_traffic(server.url, successes_only(1))
    assert ledger.retry_after_answers == 0
    note = ledger.rate_limit_note()
    assert "no Retry-After (the waits are the sender's backoff)" in note
    assert "waited on Retry-After" not in note


def test_overlapping_pauses_count_once_against_the_budget() -> None:
    from scanium_e2e.traffic.send import _Pacer

    pacer = _Pacer(max_rate=None, retry_budget_s=1.5)
    assert pacer.pause_for_retry(1.0) and pacer.pause_for_retry(1.0)
    assert pacer.waited_s == pytest.approx(1.0, abs=0.05)


def test_requests_are_paced_to_the_max_rate(serve: Serve) -> None:
    server = serve(rate_limited_first(0))
    ledger = send_traffic(server.url, successes_only(6, max_rate=20.0, concurrency=3))

    sent = sorted(entry.sent_at for entry in ledger.entries)
    assert sent[-1] - sent[0] >= 5 * 0.05 * 0.9
    assert ledger.surprises == []


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), ("0", 0.0), ("soon", None), (None, None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_retry_after_parsing(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header) == seconds


def test_a_closed_port_fails_fast_with_one_paragraph() -> None:
    url = closed_port_url()
    started = time.monotonic()
    with pytest.raises(EndpointError) as caught:
        send_traffic(url, successes_only(5))
    assert time.monotonic() - started < 3.0
    message = str(caught.value)
    assert message.startswith(f"the backend at {url} is unreachable: connection refused")
    assert "\n" not in message


def test_https_required_stops_the_run(serve: Serve) -> None:
    async def chat(request: Request) -> Response:
        return JSONResponse(
            {"error": {"code": "HTTPS_REQUIRED", "message": "HTTPS is required"}}, status_code=403
        )

    server = serve(fake_backend(chat))
    with pytest.raises(EndpointError) as caught:
        send_traffic(server.url, successes_only(5))
    assert "403 HTTPS_REQUIRED" in str(caught.value)
    assert "X-Forwarded-Proto: https" in str(caught.value)
    assert len(server.recorder.to("/v1/assist/chat")) == 1


def test_a_url_that_is_not_the_backend_stops_at_the_probe(serve: Serve) -> None:
    async def chat(request: Request) -> Response:
        return JSONResponse(chat_success_body())

    server = serve(fake_backend(chat))
    with pytest.raises(EndpointError) as caught:
        send_traffic(server.url + "/not-here", successes_only(5))
    assert "got HTTP 404 where 200 was expected" in str(caught.value)


def test_a_timed_out_request_is_recorded_not_raised(serve: Serve) -> None:
    calls = 0

    async def chat(request: Request) -> Response:
        nonlocal calls
        calls += 1
        if calls == 2:
            await asyncio.sleep(1.0)
        return JSONResponse(chat_success_body())

    server = serve(fake_backend(chat))
    ledger = send_traffic(server.url, successes_only(3, timeout_s=0.3, concurrency=1))

    assert [entry.http_status for entry in ledger.entries] == [200, None, 200]
    assert ledger.entries[1].transport_error == "timed out: ReadTimeout"
    assert len(ledger.surprises) == 1 and "no answer" in ledger.surprises[0]


def test_progress_is_reported_once_per_request(serve: Serve) -> None:
    server = serve(rate_limited_first(0))
    seen: list[TrafficProgress] = []
    send_traffic(server.url, successes_only(5), progress=seen.append)

    assert [p.done for p in seen] == [1, 2, 3, 4, 5]
    assert seen[-1].describe().startswith("5/5 requests (100%), 5 as planned, 0 surprises")
