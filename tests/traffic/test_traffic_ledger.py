"""The ledger against the real reference backend and stub LLM: the expectations computed from
it (`scanium_e2e.expectations`, the one home the checks and the CLI share) are exact."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import pytest
from traffic_harness import API_KEY, Served, closed_port_url, parse_metrics, sum_where

from scanium_e2e.checks.histograms import token_expectations
from scanium_e2e.contract import load_contract
from scanium_e2e.errors import ConfigurationError
from scanium_e2e.expectations import COUNT_ROLES, HTTP_ROLES, metric_queries, planned_counts
from scanium_e2e.settings import REPO_ROOT
from scanium_e2e.traffic import (
    Ledger,
    LedgerEntry,
    TrafficPlan,
    build_requests,
    load_ledger,
    send_traffic,
)
from scanium_e2e.traffic.shapes import CHAT_PATH, NONCE_HEADER, RUN_ID_HEADER

CONTRACT = load_contract(REPO_ROOT / "fixtures" / "contract.json")


def cumulative_token_buckets(ledger: Ledger) -> dict[tuple[str, str, float], int]:
    """Each (provider, token_type, le) bucket's increase, from the checks' token observations."""
    observations = token_expectations(ledger, CONTRACT)
    buckets: dict[tuple[str, str, float], int] = {}
    for provider, token_type in {seen.key for seen in observations}:
        values = [seen.high for seen in observations if seen.key == (provider, token_type)]
        for upper in (*CONTRACT.tokens.buckets, math.inf):
            buckets[(provider, token_type, upper)] = sum(1 for value in values if value <= upper)
    return buckets


def plan(**overrides: object) -> TrafficPlan:
    """A small plan touching every kind; concurrency so the pool is exercised."""
    values: dict[str, object] = {
        "api_key": API_KEY,
        "run_id": "run-test-1",
        "successes": 5,
        "provider_errors": 3,
        "faults": ("500", "503", "malformed"),
        "validation_errors": 4,
        "unauthorized": 2,
        "unknown_route": 1,
        "concurrency": 4,
    }
    values.update(overrides)
    return TrafficPlan(**values)  # type: ignore[arg-type]


def test_planned_counts_are_exact_and_match_the_backend_metrics(backend: Served) -> None:
    ledger = send_traffic(backend.url, plan())

    assert ledger.surprises == []
    assert [entry.seq for entry in ledger.entries] == list(range(15))
    planned = planned_counts(ledger, CONTRACT)
    assert planned["requests"] == {("openai", "success"): 5.0, ("openai", "error"): 3.0}
    assert planned["latency_count"] == planned["requests"]
    assert planned["tokens_sum"] == {
        ("openai", "input"): 600.0,
        ("openai", "output"): 225.0,
        ("openai", "total"): 825.0,
    }
    assert planned["errors_by_type"] == {
        ("openai", "invalid_response", "MALFORMED_PROVIDER_RESPONSE"): 1.0,
        ("openai", "provider_error", "PROVIDER_SERVER_ERROR"): 1.0,
        ("openai", "provider_error", "PROVIDER_UNAVAILABLE"): 1.0,
    }
    assert planned["http_requests"] == {
        # Provider errors are answered 200 with an assistantError, as Scanium does.
        ("POST", "/v1/assist/chat", "200"): 8.0,
        ("POST", "/v1/assist/chat", "400"): 4.0,
        ("POST", "/v1/assist/chat", "401"): 2.0,
        ("GET", "unmatched", "404"): 1.0,
    }
    assert ledger.backend_provider == "openai"

    # The same numbers, read from what the backend itself exposes, role by role (the HTTP
    # counts without the routes others request: the readiness probe's /health).
    samples = parse_metrics(backend.metrics())
    queries = metric_queries(CONTRACT)
    assert CONTRACT.http is not None
    for role in COUNT_ROLES:
        metric, by = queries[role]
        observed = sum_where(samples, metric, by)
        if role in HTTP_ROLES:
            observed = {k: v for k, v in observed.items() if k[1] not in CONTRACT.http.others}
        assert observed == planned[role], role
    buckets = cumulative_token_buckets(ledger)
    assert len(buckets) == 3 * 8  # three token types, seven bounds and +Inf
    for (provider, token_type, upper), n in buckets.items():
        le = "+Inf" if math.isinf(upper) else f"{upper:.1f}"
        labels = {"provider": provider, "token_type": token_type, "le": le}
        assert samples[("scanium_assistant_tokens_used_bucket", frozenset(labels.items()))] == n


def test_token_buckets_place_the_default_plan_in_distinct_buckets() -> None:
    ledger = Ledger(run_id="r", provider="openai", base_url="http://x", started_at=0.0)
    ledger.record(
        LedgerEntry(
            seq=0, kind="success", case="tokens", nonce="n", fault=None,
            planned_input_tokens=120, planned_output_tokens=45, http_status=200, code="",
            error_type="", assistant_error=False, from_cache=False, latency_ms=1.0,
            retries=0, sent_at=0.0,
        )
    )  # fmt: skip
    buckets = cumulative_token_buckets(ledger)
    assert buckets[("openai", "output", 50)] == 1
    assert buckets[("openai", "input", 100)] == 0 and buckets[("openai", "input", 250)] == 1
    assert buckets[("openai", "total", 100)] == 0 and buckets[("openai", "total", 250)] == 1
    assert buckets[("openai", "total", math.inf)] == 1


def test_every_request_carries_a_unique_nonce_the_run_id_and_forwarded_proto(
    backend: Served,
) -> None:
    ledger = send_traffic(backend.url, plan(run_id="run-nonce-check"))

    nonces = [entry.nonce for entry in ledger.entries]
    assert len(set(nonces)) == len(nonces) == 15
    traffic = [r for r in backend.recorder.received if r.path != "/health"]
    assert len(traffic) == 15
    for received in traffic:
        assert received.headers["x-forwarded-proto"] == "https"
        assert received.headers[RUN_ID_HEADER.lower()] == "run-nonce-check"
        nonce = received.headers[NONCE_HEADER.lower()]
        assert nonce in nonces
        # The nonce is in the message itself: that is what defeats the response cache.
        if received.path == CHAT_PATH:
            assert nonce.encode() in received.body and b"run-nonce-check" in received.body
        else:
            assert f"nonce={nonce}" in received.query
    assert {r.headers[NONCE_HEADER.lower()] for r in traffic} == set(nonces)


def test_plan_shapes_each_validation_case_at_the_contract_boundary() -> None:
    requests = build_requests(plan(successes=1, provider_errors=0, unauthorized=0))
    cases = {r.case: r for r in requests if r.kind == "validation_error"}
    too_long = json.loads(cases["message_too_long"].content or b"")
    assert len(too_long["message"]) == 2001
    assert len(json.loads(cases["too_many_items"].content or b"")["items"]) == 11
    assert "itemId" not in json.loads(cases["missing_item_id"].content or b"")["items"][0]
    with pytest.raises(ValueError):
        json.loads(cases["malformed_json"].content or b"")
    assert requests[0].kind == "success"  # the probe goes first


def test_a_planned_success_answered_with_an_assistant_error_is_a_surprise_not_an_expectation(
    make_backend: Callable[..., Served],
) -> None:
    # The backend's LLM is unreachable: it still answers 200, with a fallback reply.
    backend = make_backend(OPENAI_BASE_URL=closed_port_url() + "/v1")
    ledger = send_traffic(backend.url, plan(successes=2, provider_errors=1, faults=("500",)))

    # The ledger records the answers as they came ...
    assistant = [e for e in ledger.entries if e.kind in ("success", "provider_error")]
    assert len(assistant) == 3
    assert {(e.http_status, e.assistant_error, e.code) for e in assistant} == {
        (200, True, "PROVIDER_UNREACHABLE")
    }
    assert len(ledger.surprises) == 2
    assert all("expected 200 with a reply" in s for s in ledger.surprises)
    # ... but what the metrics must show follows what was sent, so the backend's own
    # mislabelling cannot make its metrics look right.
    planned = planned_counts(ledger, CONTRACT)
    assert planned["requests"] == {("openai", "success"): 2.0, ("openai", "error"): 1.0}
    assert planned["errors_by_type"] == {("openai", "provider_error", "PROVIDER_SERVER_ERROR"): 1.0}


def test_a_backend_on_another_provider_is_a_surprise(make_backend: Callable[..., Served]) -> None:
    backend = make_backend(SCANIUM_ASSISTANT_PROVIDER="mock")
    ledger = send_traffic(
        backend.url, plan(successes=1, provider_errors=0, validation_errors=0, unauthorized=0)
    )
    assert ledger.backend_provider == "mock"
    assert any("provider 'mock'" in s and "no tokens" in s for s in ledger.surprises)


def test_ledger_json_round_trip(backend: Served) -> None:
    ledger = send_traffic(backend.url, plan(canaries=True))
    text = json.dumps(ledger.to_json())
    assert API_KEY not in text
    again = load_ledger(text)
    assert again.entries == ledger.entries
    assert planned_counts(again, CONTRACT) == planned_counts(ledger, CONTRACT)
    assert again.planted() == ledger.planted() != []


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"api_key": ""}, "an API key is required"),
        ({"successes": -1}, "successes must not be negative"),
        ({"faults": ("418",)}, "unknown fault '418'"),
        ({"concurrency": 0}, "concurrency must be at least 1"),
        ({"max_rate": 0.0}, "max_rate must be a positive number"),
        ({"run_id": "has space"}, "run_id must be"),
    ],
)
def test_invalid_plans_are_refused_with_one_sentence(
    overrides: dict[str, object], problem: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        plan(**overrides)
    assert problem in str(caught.value) and "\n" not in str(caught.value)
