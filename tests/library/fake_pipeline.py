"""A Pipeline stand-in for the diagnosis and the hard-error checks: canned answers per hop.

Alloy's targets come from component JSON through the real `parse_scrape_targets`, so the
HTTP status is read where it is in production; the backend's /metrics, Alloy's counters
and the store's answers are plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import httpx

from scanium_e2e.clients.alloy import RemoteWriteCounters, ScrapeTarget, parse_scrape_targets
from scanium_e2e.clients.query import Sample
from scanium_e2e.contract import ScrapeSpec
from scanium_e2e.pipeline import MetricsReading, Pipeline, RemoteWriteWatch, ScrapeWatch
from scanium_e2e.secrets import Masker

BACKEND_URL = "http://127.0.0.1:18080"
METRICS = "# TYPE up gauge\nup 1\n# TYPE scanium_assistant_requests_total counter\n"
METRICS += 'scanium_assistant_requests_total{provider="openai"} 3\n'


def string(value: str) -> dict[str, Any]:
    return {"type": "string", "value": value}


def target_json(
    health: str, last_error: str = "", job: str = "scanium-backend", last_scrape: str = ""
) -> dict[str, Any]:
    """One target block of a `prometheus.scrape` component, as Alloy encodes it."""
    labels = {"type": "object", "value": [{"key": "job", "value": string(job)}]}
    return {
        "name": "target",
        "type": "block",
        "body": [
            {"name": "url", "type": "attr", "value": string("http://scanium-backend:8080/metrics")},
            {"name": "health", "type": "attr", "value": string(health)},
            {"name": "labels", "type": "attr", "value": labels},
            {"name": "last_error", "type": "attr", "value": string(last_error)},
            {"name": "last_scrape", "type": "attr", "value": string(last_scrape)},
        ],
    }


@dataclass
class FakeAlloy:
    targets: list[dict[str, Any]] = field(default_factory=lambda: [target_json("up")])
    counters: RemoteWriteCounters = field(
        default_factory=lambda: RemoteWriteCounters(sent=10, failed=0, dropped=0, retried=0)
    )
    parsed: list[ScrapeTarget] | None = None
    # The scrape component's evaluated arguments, as Alloy encodes them.
    arguments: list[dict[str, Any]] = field(default_factory=list)

    def scrape_targets(self, component_id: str) -> list[ScrapeTarget]:
        if self.parsed is not None:
            return self.parsed
        return parse_scrape_targets({"debugInfo": self.targets})

    def remote_write_counters(self, component_id: str) -> RemoteWriteCounters:
        return self.counters

    def component(self, component_id: str) -> dict[str, Any]:
        return {"debugInfo": self.targets, "arguments": self.arguments}


@dataclass
class FakeStore:
    own: str = "cortex_distributor_received_samples_total 10\n"
    results: dict[str, list[Sample]] = field(default_factory=dict)
    name: str = "Grafana Mimir"

    def own_metrics(self) -> str:
        return self.own

    def instant(self, query: str, at: datetime | None = None) -> list[Sample]:
        return self.results.get(query, [])

    def label_names(self, match: str = "", start: Any = None, end: Any = None) -> list[str]:
        return []

    def metric_names(self, start: Any = None, end: Any = None) -> list[str]:
        return []


def fake_pipeline(
    *,
    alloy: FakeAlloy | None = None,
    store: FakeStore | None = None,
    metrics_status: int = 200,
    metrics_text: str = METRICS,
    started_here: bool = True,
) -> Pipeline:
    """A Pipeline whose hops answer as given (by default: every hop healthy)."""
    store = store or FakeStore()

    def backend_metrics() -> httpx.Response:
        return httpx.Response(metrics_status, text=metrics_text)

    def recent_backend_metrics(not_before: float | None = None) -> MetricsReading:
        # Whatever `backend_metrics` the test gives the pipeline, read now.
        try:
            return MetricsReading(pipeline.backend_metrics(), None, 0.0)
        except httpx.TransportError as exc:
            return MetricsReading(None, exc, 0.0)

    endpoints = SimpleNamespace(backend_url=BACKEND_URL, scrape_target="scanium-backend:8080")
    stack = SimpleNamespace(
        started_here=started_here, endpoints=endpoints, logs=lambda service, **kw: ""
    )
    pipeline = SimpleNamespace(
        contract=SimpleNamespace(scrape=ScrapeSpec()),
        alloy=alloy or FakeAlloy(),
        store=store,
        stack=stack,
        endpoints=endpoints,
        store_name=store.name,
        started_at=datetime(2026, 11, 26, 10, tzinfo=UTC),
        backend_metrics=backend_metrics,
        recent_backend_metrics=recent_backend_metrics,
        prefetch_backend_metrics=lambda: None,
        settings=SimpleNamespace(scrape_interval_s=1.0, data_timeout_s=60.0, poll_interval_s=0.25),
        remote_write_watch=RemoteWriteWatch(),
        scrape_watch=ScrapeWatch(),
        memo={},
        masker=Masker(),
    )
    return cast(Pipeline, pipeline)
