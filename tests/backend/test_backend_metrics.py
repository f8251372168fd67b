"""The /metrics exposition after a known sequence of calls (contract section 3)."""

from __future__ import annotations

from typing import Any

from backend_harness import API_KEY, ClientFactory, chat_body, labels, scrape
from prometheus_client.parser import text_string_to_metric_families

AUTH = {"X-API-Key": API_KEY}
ASSISTANT_FAMILIES = {
    "scanium_assistant_requests": "counter",
    "scanium_assistant_request_latency_ms": "histogram",
    "scanium_assistant_tokens_used": "histogram",
    "scanium_assistant_errors": "counter",
    "scanium_assistant_cache_hit_rate": "gauge",
    "scanium_http_requests": "counter",
    "scanium_http_request_duration_ms": "histogram",
}
TOKEN_BUCKETS = ("50.0", "100.0", "250.0", "500.0", "1000.0", "2000.0", "4000.0", "+Inf")
LATENCY_BUCKETS = (
    "50.0", "100.0", "250.0", "500.0", "1000.0", "2500.0", "5000.0", "10000.0", "30000.0", "+Inf",
)  # fmt: skip


def _chat(client: Any, message: str, key: str = API_KEY) -> Any:
    return client.post("/v1/assist/chat", headers={"X-API-Key": key}, json=chat_body(message))


def _run_known_sequence(client: Any) -> None:
    assert _chat(client, "first [[stub:tokens=120,30]]").json()["fromCache"] is False
    assert _chat(client, "first [[stub:tokens=120,30]]").json()["fromCache"] is True
    assert _chat(client, "second [[stub:tokens=40,2000]]").status_code == 200
    assert _chat(client, "third [[stub:fault=500]]").json()["assistantError"]["type"] == (
        "provider_error"
    )
    assert _chat(client, "fourth [[stub:fault=429]]").json()["assistantError"]["type"] == (
        "rate_limited"
    )
    # Rejected before the assistant: nothing assistant-side may be recorded for these.
    assert _chat(client, "fifth", key="wrong").status_code == 401
    assert client.post("/v1/assist/chat", headers=AUTH, json={"items": []}).status_code == 400
    assert client.get("/no/such/route?apiKey=secret").status_code == 404


def test_exposition_after_a_known_sequence(make_client: ClientFactory) -> None:
    client = make_client(provider="openai")
    _run_known_sequence(client)
    samples = scrape(client)

    def assistant(prefix: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        return {key: value for key, value in samples.items() if key[0].startswith(prefix)}

    requests = "scanium_assistant_requests_total"
    assert assistant(requests) == {
        (requests, labels(provider="openai", status="success", cache_hit="false")): 2.0,
        (requests, labels(provider="openai", status="success", cache_hit="true")): 1.0,
        (requests, labels(provider="openai", status="error", cache_hit="false")): 2.0,
    }
    errors = "scanium_assistant_errors_total"
    server_error = {"error_type": "provider_error", "reason_code": "PROVIDER_SERVER_ERROR"}
    rate_limited = {"error_type": "rate_limited", "reason_code": "PROVIDER_RATE_LIMITED"}
    assert assistant(errors) == {
        (errors, labels(provider="openai", **server_error)): 1.0,
        (errors, labels(provider="openai", **rate_limited)): 1.0,
    }
    assert samples[("scanium_assistant_cache_hit_rate", labels())] == 0.2

    # Latency: one observation per request that reached the assistant.
    for status, count in (("success", 3.0), ("error", 2.0)):
        key = labels(provider="openai", status=status)
        assert samples[("scanium_assistant_request_latency_ms_count", key)] == count
        assert (
            samples[("scanium_assistant_request_latency_ms_bucket", key | {("le", "+Inf")})]
            == count
        )

    # Tokens: two successful LLM calls (the cache hit made none): (120, 30) and (40, 2000).
    expected_tokens = {
        "input": ((120, 40), {"50.0": 1, "100.0": 1, "250.0": 2}),
        "output": ((30, 2000), {"50.0": 1, "1000.0": 1, "2000.0": 2}),
        "total": ((150, 2040), {"100.0": 0, "250.0": 1, "2000.0": 1, "4000.0": 2}),
    }
    for token_type, (values, some_buckets) in expected_tokens.items():
        key = labels(provider="openai", token_type=token_type)
        assert samples[("scanium_assistant_tokens_used_count", key)] == 2.0
        assert samples[("scanium_assistant_tokens_used_sum", key)] == float(sum(values))
        buckets = {
            le: samples[("scanium_assistant_tokens_used_bucket", key | {("le", le)})]
            for le in TOKEN_BUCKETS
        }
        assert buckets["+Inf"] == 2.0
        for le, count in some_buckets.items():
            assert buckets[le] == count, (token_type, le)
    token_series = {k[1] for k in samples if k[0] == "scanium_assistant_tokens_used_count"}
    assert token_series == {
        labels(provider="openai", token_type=t) for t in ("input", "output", "total")
    }

    # HTTP metrics by route template; the unknown route's raw URL never appears.
    http = {k: v for k, v in samples.items() if k[0] == "scanium_http_requests_total"}
    chat = {"method": "POST", "route": "/v1/assist/chat"}
    assert http == {
        ("scanium_http_requests_total", labels(**chat, status_code="200")): 5.0,
        ("scanium_http_requests_total", labels(**chat, status_code="401")): 1.0,
        ("scanium_http_requests_total", labels(**chat, status_code="400")): 1.0,
        (
            "scanium_http_requests_total",
            labels(method="GET", route="unmatched", status_code="404"),
        ): 1.0,
    }
    duration_counts = {
        k[1]: v for k, v in samples.items() if k[0] == "scanium_http_request_duration_ms_count"
    }
    assert duration_counts == {key[1]: value for key, value in http.items()}


def test_families_types_and_no_created_series(make_client: ClientFactory) -> None:
    client = make_client(provider="openai")
    _run_known_sequence(client)
    text = client.get("/metrics").text
    families = {f.name: f.type for f in text_string_to_metric_families(text)}
    assert {k: v for k, v in families.items() if k in ASSISTANT_FAMILIES} == ASSISTANT_FAMILIES
    assert set(families) - set(ASSISTANT_FAMILIES) == {
        name for name in families if name.startswith("scanium_process_")
    }
    assert "scanium_process_cpu_seconds" in families
    for name in (
        "scanium_assistant_requests_total",
        "scanium_assistant_errors_total",
        "scanium_http_requests_total",
    ):
        assert f"# TYPE {name} counter" in text
    assert "# TYPE scanium_assistant_request_latency_ms histogram" in text
    assert "_created" not in text
    assert "secret" not in text and "/no/such/route" not in text
    sample_lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert all(line.startswith("scanium_") for line in sample_lines)


def test_latency_buckets(make_client: ClientFactory) -> None:
    client = make_client(provider="openai")
    assert _chat(client, "slow [[stub:delay_ms=600]]").status_code == 200
    key = labels(provider="openai", status="success")
    samples = scrape(client)
    buckets = {
        le: samples[("scanium_assistant_request_latency_ms_bucket", key | {("le", le)})]
        for le in LATENCY_BUCKETS
    }
    assert buckets == {
        "50.0": 0, "100.0": 0, "250.0": 0, "500.0": 0, "1000.0": 1, "2500.0": 1,
        "5000.0": 1, "10000.0": 1, "30000.0": 1, "+Inf": 1,
    }  # fmt: skip
    assert 600 <= samples[("scanium_assistant_request_latency_ms_sum", key)] < 1000


def test_nothing_assistant_side_before_any_chat(make_client: ClientFactory) -> None:
    client = make_client()
    text = client.get("/metrics").text
    assert "scanium_assistant_requests_total{" not in text
    assert "scanium_assistant_cache_hit_rate 0.0" in text


def test_rejections_record_no_assistant_metrics(make_client: ClientFactory) -> None:
    client = make_client({"SCANIUM_RATE_LIMIT_USER_PER_MIN": "1"})
    assert _chat(client, "a").status_code == 200
    assert _chat(client, "b").status_code == 429
    assert _chat(client, "c", key="bad").status_code == 401
    samples = scrape(client)
    requests = {k: v for k, v in samples.items() if k[0] == "scanium_assistant_requests_total"}
    assert requests == {
        (
            "scanium_assistant_requests_total",
            labels(provider="mock", status="success", cache_hit="false"),
        ): 1.0
    }


def test_mock_records_no_tokens(make_client: ClientFactory) -> None:
    client = make_client()
    assert _chat(client, "hello").status_code == 200
    assert "scanium_assistant_tokens_used_count" not in client.get("/metrics").text


def test_claude_tokens_use_input_plus_output(make_client: ClientFactory) -> None:
    client = make_client(provider="claude")
    assert _chat(client, "hi [[stub:tokens=11,22]]").status_code == 200
    samples = scrape(client)
    for token_type, value in (("input", 11.0), ("output", 22.0), ("total", 33.0)):
        key = labels(provider="claude", token_type=token_type)
        assert samples[("scanium_assistant_tokens_used_sum", key)] == value
