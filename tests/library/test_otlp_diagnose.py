"""The OTLP road's diagnosis (verdict/otlp_diagnose.py): which hop is broken, and why a
family is missing from the store, decided on the store's answers and Alloy's counters."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

from scanium_e2e.clients.alloy import ReceiverCounters, RemoteWriteCounters
from scanium_e2e.clients.query import Sample
from scanium_e2e.contract import load_contract
from scanium_e2e.findings import OTLP, Kind
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.secrets import Masker
from scanium_e2e.settings import REPO_ROOT, Settings
from scanium_e2e.stack import StackEndpoints
from scanium_e2e.stack.otlp_route import OtlpRoute
from scanium_e2e.verdict.otlp_diagnose import (
    family_finding,
    hop_otlp_export,
    otlp_state,
    road_cause,
)

CONTRACT = load_contract(REPO_ROOT / "fixtures" / "contract.json")
ROUTE = OtlpRoute(
    receiver="otelcol.receiver.otlp.backend_http",
    endpoint="0.0.0.0:4319",
    wired=("metrics", "traces"),
    exporter="otelcol.exporter.prometheus.backend",
    remote_write="prometheus.remote_write.mimir",
)
ENDED = 1_000.0


@dataclass
class Store:
    """The store's answers to the diagnosis' queries, by the query's shape: each family's
    newest point, the names under a stem, the road's jobs and instances."""

    newest: dict[str, float] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    jobs: list[tuple[str, str]] = field(
        default_factory=lambda: [("scanium-backend", "scanium-backend")]
    )
    own: str = "cortex_distributor_received_samples_total 10\n"
    name: str = "Cortex"

    def instant(self, query: str, at: datetime | None = None) -> list[Sample]:
        if query.startswith("label_replace("):
            asked = re.findall(r'"family", "([a-z_]+)"', query)
            return [Sample({"family": f}, at) for f, at in self.newest.items() if f in asked]
        if query.startswith("group by (__name__)"):
            stem = re.search(r'__name__=~"([^"]+)\.\*"', query)
            assert stem is not None
            prefix = stem.group(1).replace("\\", "")
            return [Sample({"__name__": n}, 1.0) for n in self.names if n.startswith(prefix)]
        if query.startswith("group by (job, instance)"):
            return [Sample({"job": j, "instance": i}, 1.0) for j, i in self.jobs]
        raise AssertionError(f"unexpected query {query}")

    def own_metrics(self) -> str:
        return self.own


@dataclass
class Alloy:
    counters: ReceiverCounters = field(default_factory=lambda: ReceiverCounters(120, 0, 20, 0))

    def receiver_counters(self, component_id: str) -> ReceiverCounters:
        return self.counters

    def remote_write_counters(self, component_id: str) -> RemoteWriteCounters:
        return RemoteWriteCounters(sent=10, failed=0, dropped=0, retried=0)


def pipeline(store: Store, alloy: Alloy | None = None, route: OtlpRoute = ROUTE) -> Pipeline:
    endpoints = StackEndpoints(
        backend_url="http://b", alloy_url="http://a", mimir_url="http://m",
        otlp_endpoint="http://alloy:4318",
    )  # fmt: skip
    stack = SimpleNamespace(endpoints=endpoints, components=None, started_here=True)
    built = Pipeline(
        settings=Settings(run_id="run-x"),
        contract=CONTRACT,
        stack=cast(Any, stack),
        store=cast(Any, store),
        alloy=cast(Any, alloy or Alloy()),
        masker=Masker([]),
        started_at=datetime(2026, 12, 7, tzinfo=UTC),
    )
    built.memo["otlp_route"] = route  # what Alloy's component API would show
    return built


FRESH = ENDED + 2
GAUGES_AND_SPANS = {
    "rate_limit_requests": FRESH,
    "rate_limit_tokens": FRESH,
    "span_calls": FRESH,
    "span_duration": FRESH,
}


def test_sums_and_histograms_missing_beside_the_gauges_is_the_delta_pattern() -> None:
    found = family_finding(pipeline(Store(newest=GAUGES_AND_SPANS)), "requests", ENDED)
    assert found is not None
    assert (found.hop, found.kind, found.road) == (2, Kind.OTLP_POINTS_DROPPED, OTLP)
    assert found.subject == "otelcol.exporter.prometheus.backend"
    text = found.render()
    assert "the receiver accepted 120 points" in text
    assert "the store holds its gauges (openai_rate_limit_requests_remaining_ratio, " in text
    assert "calls_total" not in text  # span metrics are no gauges of the backend
    assert "the pattern of delta temporality" in text and "the contract says cumulative" in text


def test_a_family_stored_under_a_longer_name_names_that_name() -> None:
    newest = {**GAUGES_AND_SPANS, "requests": FRESH, "tokens": FRESH}
    renamed = [
        "openai_request_duration_seconds_milliseconds_bucket",
        "openai_request_duration_seconds_milliseconds_count",
    ]
    found = family_finding(pipeline(Store(newest=newest, names=renamed)), "duration", ENDED)
    assert found is not None and (found.hop, found.kind) == (1, Kind.OTLP_NAME_DIFFERS)
    assert found.render().startswith(
        "the store holds no `openai_request_duration_seconds` of this run but "
        "`openai_request_duration_seconds_milliseconds_bucket, "
        "openai_request_duration_seconds_milliseconds_count`"
    )
    assert "instrument `openai_request_duration_seconds` with unit `s`" in found.render()


def test_series_under_another_job_name_the_resource() -> None:
    store = Store(jobs=[("unknown_service", "6f1c")])
    found = family_finding(pipeline(store), "requests", ENDED)
    assert found is not None and (found.hop, found.kind) == (1, Kind.OTLP_RESOURCE_DIFFERS)
    assert 'carry job="unknown_service", instance="6f1c", not job="scanium-backend"' in (
        found.render()
    )


def test_a_family_no_export_carries_is_never_pushed() -> None:
    newest = {**GAUGES_AND_SPANS, "requests": FRESH, "duration": FRESH}
    found = family_finding(pipeline(Store(newest=newest)), "tokens", ENDED)
    assert found is not None and (found.hop, found.kind) == (1, Kind.OTLP_NEVER_PUSHED)
    assert found.render().startswith("no OTLP export of the backend carries `openai_tokens_total`")


def test_nothing_is_final_before_an_export_after_the_traffic_is_stored() -> None:
    stale = {role: ENDED - 5 for role in GAUGES_AND_SPANS}
    assert family_finding(pipeline(Store(newest=stale)), "requests", ENDED) is None


def test_a_family_that_is_stored_has_no_finding() -> None:
    assert family_finding(pipeline(Store(newest={"requests": FRESH})), "requests", ENDED) is None


def test_a_receiver_that_accepted_nothing_is_broken_once_an_export_is_overdue() -> None:
    silent = pipeline(Store(), Alloy(ReceiverCounters(0, 0, 0, 0)))
    state = otlp_state(silent)
    overdue = hop_otlp_export(silent, state, time.time() - 60)
    assert overdue.status == "broken" and overdue.finding.kind == Kind.OTLP_NOTHING_RECEIVED
    assert "told to export to http://alloy:4318 (OTEL_EXPORTER_OTLP_ENDPOINT)" in (overdue.detail)
    assert hop_otlp_export(silent, state, time.time()).status == "unknown"


def test_an_unwired_metrics_output_is_named_before_the_silence_it_causes() -> None:
    traces_only = OtlpRoute(ROUTE.receiver, ROUTE.endpoint, ("traces",))
    silent = pipeline(Store(), Alloy(ReceiverCounters(0, 0, 5, 0)), route=traces_only)
    cause = road_cause(silent, otlp_state(silent), time.time() - 60)
    assert cause is not None and (cause.hop, cause.kind) == (2, Kind.OTLP_OUTPUT_UNWIRED)
    assert cause.render().startswith(
        "otelcol.receiver.otlp.backend_http wires no `metrics` output (its output wires traces)"
    )


def test_refused_points_break_hop_2() -> None:
    refusing = pipeline(Store(), Alloy(ReceiverCounters(50, 7, 0, 0)))
    cause = road_cause(refusing, otlp_state(refusing), ENDED, delivery=False)
    assert cause is not None and cause.kind == Kind.OTLP_POINTS_REFUSED
    assert cause.render().startswith(
        "otelcol.receiver.otlp.backend_http refused 7 of the backend's OTLP points"
    )
