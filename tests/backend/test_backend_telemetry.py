"""The backend's OpenTelemetry: the OpenAI metrics Scanium records, and a span per chat
request, read through in-memory readers (and one real OTLP/HTTP export)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest
from backend_harness import API_KEY, ClientFactory, chat_body
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    InMemoryMetricReader,
    MetricsData,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from scanium_backend.config import Config, ConfigError
from scanium_backend.telemetry import OpenAITelemetry, build_telemetry, preferred_temporality

AUTH = {"X-API-Key": API_KEY}
BASE_ENV = {"SCANIUM_API_KEYS": API_KEY}


class Recorded:
    """A backend's telemetry read in memory: its metric points and finished spans."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.reader = InMemoryMetricReader()
        self.spans = InMemorySpanExporter()
        config = Config.from_env({**BASE_ENV, **(env or {})})
        self.telemetry = build_telemetry(
            config,
            metric_readers=[self.reader],
            span_processors=[SimpleSpanProcessor(self.spans)],
        )

    def points(self, name: str) -> dict[frozenset[tuple[str, str]], Any]:
        """`name`'s data points by attribute set."""
        data: MetricsData | None = self.reader.get_metrics_data()
        found: dict[frozenset[tuple[str, str]], Any] = {}
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        for point in metric.data.data_points:
                            found[
                                frozenset((k, str(v)) for k, v in (point.attributes or {}).items())
                            ] = point
        return found

    def unit_of(self, name: str) -> str:
        data = self.reader.get_metrics_data()
        assert data is not None
        return next(
            metric.unit or ""
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == name
        )

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())


def attrs(**pairs: str) -> frozenset[tuple[str, str]]:
    return frozenset(pairs.items())


@pytest.fixture
def recorded() -> Recorded:
    return Recorded()


def _chat(client: Any, message: str) -> Any:
    response = client.post("/v1/assist/chat", headers=AUTH, json=chat_body(message))
    assert response.status_code == 200
    return response.json()


def test_a_success_is_counted_timed_and_its_tokens_and_limits_kept(
    make_client: ClientFactory, recorded: Recorded
) -> None:
    client = make_client(
        provider="openai", env={"OPENAI_MODEL": "gpt-test"}, telemetry=recorded.telemetry
    )
    _chat(client, "price it [[stub:tokens=120,45]] [[stub:ratelimit=4990,159000]]")
    assert {k: p.value for k, p in recorded.points("openai_requests_total").items()} == {
        attrs(model="gpt-test", status="success"): 1
    }
    (duration,) = recorded.points("openai_request_duration_seconds").items()
    assert duration[0] == attrs(model="gpt-test", status="success")
    assert duration[1].count == 1 and 0 < duration[1].sum < 5
    assert recorded.unit_of("openai_request_duration_seconds") == "s"
    assert {k: p.value for k, p in recorded.points("openai_tokens_total").items()} == {
        attrs(model="gpt-test", token_type="input"): 120,
        attrs(model="gpt-test", token_type="output"): 45,
        attrs(model="gpt-test", token_type="total"): 165,
    }
    gauges = {
        name: {k: p.value for k, p in recorded.points(name).items()}
        for name in ("openai_rate_limit_requests_remaining", "openai_rate_limit_tokens_remaining")
    }
    assert gauges == {
        "openai_rate_limit_requests_remaining": {
            attrs(model="gpt-test", limit_type="requests"): 4990
        },
        "openai_rate_limit_tokens_remaining": {
            attrs(model="gpt-test", limit_type="tokens"): 159000
        },
    }
    assert recorded.unit_of("openai_rate_limit_requests_remaining") == "1"


def test_the_gauges_keep_the_latest_headers(make_client: ClientFactory, recorded: Recorded) -> None:
    client = make_client(provider="openai", telemetry=recorded.telemetry)
    _chat(client, "one [[stub:ratelimit=10,100]]")
    _chat(client, "two [[stub:ratelimit=9,90]]")
    _chat(client, "three, no headers")
    points = recorded.points("openai_rate_limit_requests_remaining")
    assert [p.value for p in points.values()] == [9]


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [("500", "provider_error"), ("429", "rate_limited"), ("malformed", "invalid_response")],
)
def test_a_failed_call_is_counted_as_an_error_of_its_type(
    make_client: ClientFactory, recorded: Recorded, fault: str, error_type: str
) -> None:
    client = make_client(provider="openai", telemetry=recorded.telemetry)
    body = _chat(client, f"[[stub:fault={fault}]] [[stub:ratelimit=1,1]]")
    assert "assistantError" in body
    assert {k: p.value for k, p in recorded.points("openai_requests_total").items()} == {
        attrs(model="gpt-4o-mini", status="error", error_type=error_type): 1
    }
    assert set(recorded.points("openai_request_duration_seconds")) == {
        attrs(model="gpt-4o-mini", status="error")
    }
    assert recorded.points("openai_tokens_total") == {}
    assert recorded.points("openai_rate_limit_requests_remaining") == {}


def test_other_providers_record_no_openai_metrics(
    make_client: ClientFactory, recorded: Recorded
) -> None:
    _chat(make_client(provider="claude", telemetry=recorded.telemetry), "hello")
    assert recorded.points("openai_requests_total") == {}


def test_one_span_per_chat_request_with_its_outcome(
    make_client: ClientFactory, recorded: Recorded
) -> None:
    client = make_client(provider="openai", telemetry=recorded.telemetry)
    _chat(client, "first")
    _chat(client, "first")  # the cache answers it
    _chat(client, "[[stub:fault=503]]")
    assert client.post("/v1/assist/chat", headers=AUTH, json={"items": []}).status_code == 400
    assert client.post("/v1/assist/chat", json=chat_body()).status_code == 401
    assert client.get("/healthz").status_code == 200
    spans = recorded.finished()
    assert {(s.name, s.kind) for s in spans} == {("POST /v1/assist/chat", SpanKind.SERVER)}
    assert [
        (s.status.status_code, (s.attributes or {})["http.response.status_code"]) for s in spans
    ] == [
        (StatusCode.OK, 200),
        (StatusCode.OK, 200),
        (StatusCode.ERROR, 200),
        (StatusCode.UNSET, 400),
        (StatusCode.UNSET, 401),
    ]


def test_a_request_refused_for_plain_http_makes_no_span(
    make_client: ClientFactory, recorded: Recorded
) -> None:
    client = make_client({"NODE_ENV": "production"}, telemetry=recorded.telemetry)
    assert client.post("/v1/assist/chat", headers=AUTH, json=chat_body()).status_code == 403
    assert recorded.finished() == []


def test_the_resource_names_the_service_and_its_attributes() -> None:
    recorded = Recorded(
        {
            "OTEL_SERVICE_NAME": "scanium-backend",
            "NODE_ENV": "production",
            "OTEL_RESOURCE_ATTRIBUTES": "service.instance.id=scanium-backend,team=a%20b",
        }
    )
    recorded.telemetry.record_call("m", "success", 0.1)
    data = recorded.reader.get_metrics_data()
    assert data is not None
    resource = dict(data.resource_metrics[0].resource.attributes)
    assert resource["service.name"] == "scanium-backend"
    assert resource["service.instance.id"] == "scanium-backend"
    assert resource["deployment.environment"] == "production"
    assert resource["team"] == "a b"


def test_an_empty_service_name_is_the_sdks_unknown_service() -> None:
    assert Config.from_env({**BASE_ENV, "OTEL_SERVICE_NAME": ""}).otel_service_name == (
        "unknown_service"
    )


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "weekly"}, "TEMPORALITY"),
        ({"OTEL_RESOURCE_ATTRIBUTES": "no-equals-sign"}, "OTEL_RESOURCE_ATTRIBUTES"),
        ({"OTEL_METRIC_EXPORT_INTERVAL": "5"}, "OTEL_METRIC_EXPORT_INTERVAL"),
    ],
)
def test_bad_telemetry_settings_stop_start_up(env: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        Config.from_env({**BASE_ENV, **env})


def test_delta_preference_makes_sums_and_histograms_delta() -> None:
    chosen = preferred_temporality("delta")
    assert {kind.__name__: value for kind, value in chosen.items()}["Counter"] == (
        AggregationTemporality.DELTA
    )
    reader = InMemoryMetricReader(preferred_temporality=chosen)
    config = Config.from_env(BASE_ENV)
    telemetry = build_telemetry(config, metric_readers=[reader])
    telemetry.record_call("m", "success", 0.2)
    data = reader.get_metrics_data()
    assert data is not None
    sums = [
        getattr(metric.data, "aggregation_temporality", None)
        for metric in data.resource_metrics[0].scope_metrics[0].metrics
        if metric.name in ("openai_requests_total", "openai_request_duration_seconds")
    ]
    assert sums == [AggregationTemporality.DELTA, AggregationTemporality.DELTA]


class _Receiver(BaseHTTPRequestHandler):
    paths: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        type(self).paths.append(self.path)
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.paths = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_an_endpoint_exports_metrics_and_spans_by_otlp_http(receiver: str) -> None:
    config = Config.from_env({**BASE_ENV, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver})
    telemetry: OpenAITelemetry = build_telemetry(config)
    telemetry.record_call("m", "success", 0.1)
    with telemetry.chat_span() as span:
        span.status_code = 200
    telemetry.shutdown()  # flushes both
    assert sorted(set(_Receiver.paths)) == ["/v1/metrics", "/v1/traces"]
