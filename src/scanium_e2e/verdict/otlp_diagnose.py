"""Root-cause diagnosis of the OTLP road: walk it hop by hop and name the first broken one.

The hops, in the order the backend's pushed metrics flow:
  1. backend OTLP export    - did Alloy's receiver accept any of the backend's points?
  2. Alloy otelcol          - does the receiver wire its metrics on to a remote write, did
                              it refuse points, did the exporter write what it received?
  3. remote write           - Alloy's remote-write counters (as on the scraped road)
  4. store ingestion        - the store's discarded samples
  5. the query              - why the series is missing (a renamed family, another job)
Hops 3 to 5 are the scraped road's (verdict.diagnose): both roads end in one remote write
and one store. Each hop reports a Finding on the OTLP road (`road=OTLP`).

What makes a verdict final here: the backend exports every `otlp_export_interval_s`, so
an export after the traffic is due within it. Until one is due, a receiver that accepted
nothing is "unknown" (a finding would be a guess); after it, "broken". A family missing
from the store is judged only once the store holds other families of an export stamped
after the traffic: that export carried everything the backend had, so nothing is on its way.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace

from scanium_e2e.clients.alloy import ReceiverCounters
from scanium_e2e.errors import EndpointError
from scanium_e2e.findings import OTLP, OTLP_HOP_NAMES, Finding, Kind
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.polling import TransientError
from scanium_e2e.stack.alloy_config import live_components
from scanium_e2e.stack.otlp_route import OtlpRoute, follow
from scanium_e2e.verdict.diagnose import (
    Diagnosis,
    HopReport,
    hop_mimir_ingestion,
    hop_query,
    hop_remote_write,
)

# Slack beyond one export interval before a missing export counts as never coming: the
# receiver's batching and the remote write's flush (seconds).
EXPORT_SLACK_S = 2.0
# Kinds of the contract's OTLP families that otelcol.exporter.prometheus drops when their
# temporality is delta (gauges have none).
_DELTA_DROPPED = ("counter", "histogram", "summary")


def _hop(number: int, status: str, finding: Finding) -> HopReport:
    return HopReport(
        number, OTLP_HOP_NAMES[number - 1], status, replace(finding, hop=number, road=OTLP)
    )


def _onto_road(report: HopReport) -> HopReport:
    """A shared hop's report (3 to 5) as a hop of the OTLP road."""
    return replace(report, finding=replace(report.finding, road=OTLP))


@dataclass(frozen=True)
class OtlpState:
    """What Alloy shows of the OTLP road right now: the route and the receiver's counters
    (None when Alloy could not be read; `problem` says why)."""

    route: OtlpRoute | None
    counters: ReceiverCounters | None
    problem: str = ""


def otlp_state(pipeline: Pipeline) -> OtlpState:
    """The receiver's route and counters, read from Alloy's component API and /metrics.

    The route is read once per pipeline (a running Alloy's config does not change); the
    counters every time.
    """
    receiver = pipeline.otlp_receiver
    try:
        route = pipeline.memo.get("otlp_route")
        if not isinstance(route, OtlpRoute):
            components = live_components(pipeline.alloy)
            if receiver not in {component.id for component in components}:
                return OtlpState(None, None, f"Alloy has no component {receiver}")
            route = pipeline.memo["otlp_route"] = follow(components, receiver)
        return OtlpState(route, pipeline.alloy.receiver_counters(receiver))
    except (TransientError, EndpointError) as exc:
        return OtlpState(None, None, str(exc))


def export_due(pipeline: Pipeline, traffic_ended: float | None) -> bool:
    """Whether an export after the traffic is overdue (an interval and the slack passed)."""
    if traffic_ended is None:
        return True
    due = traffic_ended + pipeline.settings.otlp_export_interval_s + EXPORT_SLACK_S
    return time.time() >= due


def hop_otlp_export(pipeline: Pipeline, state: OtlpState, traffic_ended: float | None) -> HopReport:
    """Hop 1: did the receiver accept any of the backend's points?"""
    receiver = pipeline.otlp_receiver
    if state.counters is None:
        return _hop(1, "unknown", Finding(Kind.UNREACHABLE, subject="Alloy", detail=state.problem))
    counters = state.counters
    if counters.accepted_points or counters.refused_points:
        received = Finding(
            Kind.OTLP_POINTS_RECEIVED,
            subject=receiver,
            seen=f"{counters.accepted_points:g}",
            expected=f"{counters.refused_points:g}",
        )
        return _hop(1, "ok", received)
    interval = pipeline.settings.otlp_export_interval_s
    endpoint = state.route.endpoint if state.route is not None else "?"
    told = pipeline.endpoints.otlp_endpoint
    nothing = Finding(
        Kind.OTLP_NOTHING_RECEIVED,
        subject=f"{receiver} (listening on {endpoint})",
        seen=(
            f"the backend is told to export to {told} (OTEL_EXPORTER_OTLP_ENDPOINT)"
            if told
            else "the backend's export target is not known here"
        )
        + f", every {interval:g} s",
        detail=": the backend's exports do not reach it (a wrong endpoint or port, or an "
        "export that fails: see the backend's log)",
    )
    return _hop(1, "broken" if export_due(pipeline, traffic_ended) else "unknown", nothing)


def hop_otelcol(pipeline: Pipeline, state: OtlpState) -> HopReport:
    """Hop 2: the receiver's wiring to a remote write, and the points it refused."""
    route = state.route
    if route is None:
        return _hop(2, "unknown", Finding(Kind.UNREACHABLE, subject="Alloy", detail=state.problem))
    if "metrics" not in route.wired:
        unwired = Finding(
            Kind.OTLP_OUTPUT_UNWIRED,
            subject=route.receiver,
            expected="metrics",
            seen=f"its output wires {', '.join(route.wired) or 'nothing'}",
        )
        return _hop(2, "broken", unwired)
    if not route.remote_write:
        unwired = Finding(
            Kind.OTLP_OUTPUT_UNWIRED,
            subject=route.receiver,
            expected="metrics",
            seen="no otelcol.exporter.prometheus forwarding to a prometheus.remote_write is "
            "on their way",
        )
        return _hop(2, "broken", unwired)
    counters = state.counters
    if counters is not None and counters.refused_points:
        refused = Finding(
            Kind.OTLP_POINTS_REFUSED,
            subject=route.receiver,
            seen=f"{counters.refused_points:g}",
            detail=f" (accepted {counters.accepted_points:g}): a component after it failed them",
        )
        return _hop(2, "broken", refused)
    ok = Finding(
        Kind.OTLP_ROUTE_OK,
        subject=route.receiver,
        detail=f" -> {route.exporter} -> {route.remote_write}",
    )
    return _hop(2, "ok", ok)


def road_cause(
    pipeline: Pipeline,
    state: OtlpState,
    traffic_ended: float | None,
    *,
    delivery: bool = True,
) -> Finding | None:
    """The first broken hop of the road before the query (hops 1 to 4, or only 1 and 2
    without `delivery`); None when none is. A receiver whose metrics go nowhere is named
    before its export's failure: Alloy then refuses the backend's metrics, a consequence."""
    export = hop_otlp_export(pipeline, state, traffic_ended)
    otelcol = hop_otelcol(pipeline, state)
    if otelcol.status == "broken" and otelcol.finding.kind == Kind.OTLP_OUTPUT_UNWIRED:
        return otelcol.finding
    for hop in (export, otelcol):
        if hop.status == "broken":
            return hop.finding
    if not delivery:
        return None
    component = state.route.remote_write if state.route and state.route.remote_write else None
    remote_write = hop_remote_write(pipeline, component)
    ingestion = hop_mimir_ingestion(pipeline, remote_write)
    for hop in (ingestion, remote_write):
        if hop.status == "broken":
            return hop.finding
    return None


def diagnose_otlp(
    pipeline: Pipeline, *, query: str | None = None, traffic_ended: float | None = None
) -> Diagnosis:
    """Inspect every hop of the OTLP road and return the reports in order."""
    state = otlp_state(pipeline)
    component = state.route.remote_write if state.route and state.route.remote_write else None
    remote_write = hop_remote_write(pipeline, component)
    ingestion = hop_mimir_ingestion(pipeline, remote_write)
    return Diagnosis(
        hops=(
            hop_otlp_export(pipeline, state, traffic_ended),
            hop_otelcol(pipeline, state),
            _onto_road(remote_write),
            _onto_road(ingestion),
            _onto_road(hop_query(pipeline, query)),
        )
    )


def exported_families(pipeline: Pipeline, since: float | None) -> dict[str, float]:
    """The OTLP road's families (roles) of this run in the store, each with its newest
    point's timestamp (only those with a point at or after `since`, when given).

    One query: `timestamp()` drops the metric name, so each family's newest point is read
    under a label naming it (`label_replace(max(timestamp(x{...})), "family", ...)`).
    """
    otlp = pipeline.contract.otlp
    assert otlp is not None
    parts = [
        f"label_replace(max(timestamp({pipeline.selector(spec.series_names[-1])})), "
        f'"family", "{role}", "", "")'
        for role, spec in otlp.families.items()
    ]
    found = {
        sample.labels.get("family", ""): sample.value
        for sample in pipeline.store.instant(" or ".join(parts))
    }
    return {role: at for role, at in found.items() if since is None or at >= since}


def _regex_selector(pipeline: Pipeline, names: str, *, any_job: bool = False) -> str:
    """`{__name__=~"names",job="<the road's job>",run_id=...}` (without the job: any)."""
    otlp = pipeline.contract.otlp
    assert otlp is not None
    matchers = [f'__name__=~"{names}"']
    if not any_job:
        matchers.append(f'job="{otlp.job}"')
    matchers += [f'{name}="{value}"' for name, value in pipeline.run_matchers().items()]
    return "{" + ",".join(matchers) + "}"


def family_finding(
    pipeline: Pipeline, role: str, traffic_ended: float | None, state: OtlpState | None = None
) -> Finding | None:
    """Why the OTLP family of `role` is not in the store, once that is final; else None.

    - the backend's OTLP series are there under another job or instance: its resource
      lacks what the contract maps to them (hop 1);
    - an export after the traffic reached the store, and
      - the store holds a series named like the family with another suffix: the exporter
        named it by another unit or type than the contract's (hop 1, the backend's unit);
      - it holds the road's gauges but none of its sums or histograms: the pattern of
        delta temporality, which otelcol.exporter.prometheus drops (hop 2);
      - else the backend's exports do not carry it (hop 1).
    """
    otlp = pipeline.contract.otlp
    assert otlp is not None
    spec = otlp.families[role]
    stored = exported_families(pipeline, None)
    if role in stored:
        return None
    fresh = {
        other: at for other, at in stored.items() if traffic_ended is None or at >= traffic_ended
    }
    resource = resource_finding(pipeline)
    if resource is not None:
        return resource
    if not fresh:
        return None  # no export after the traffic in the store yet: nothing is final
    pushed = otlp.pushed.get(role)
    stem = pushed.instrument if pushed is not None and pushed.instrument else spec.name
    similar = _similar_names(pipeline, stem, set(spec.series_names))
    if similar:
        unit = f"unit `{pushed.unit}`" if pushed is not None and pushed.unit else "its unit"
        return Finding(
            Kind.OTLP_NAME_DIFFERS,
            subject=spec.name,
            expected=spec.name,
            seen=", ".join(similar),
            detail=f": otelcol.exporter.prometheus names a series by its instrument's name, "
            f"unit and type, and the contract says instrument `{stem}` with {unit} "
            f"({spec.type}); the backend pushes it otherwise",
            hop=1,
            road=OTLP,
        )
    present = sorted(fresh)
    # Only what the backend pushes has a temporality of its own (the span metrics are the
    # connector's, cumulative).
    pushed_kinds = {otlp.families[role].type for role in present if role in otlp.pushed}
    if (
        role in otlp.pushed
        and spec.type in _DELTA_DROPPED
        and pushed_kinds
        and not pushed_kinds & set(_DELTA_DROPPED)
    ):
        state = state or otlp_state(pipeline)
        exporter = state.route.exporter if state.route is not None else "otelcol.exporter"
        counted = state.counters.accepted_points if state.counters is not None else 0.0
        gauges = ", ".join(otlp.families[r].name for r in present if r in otlp.pushed)
        return Finding(
            Kind.OTLP_POINTS_DROPPED,
            subject=exporter,
            expected="sums and histograms",
            seen=f"the receiver accepted {counted:g} points and the store holds its gauges "
            f"({gauges}) of an export after the traffic",
            detail=f": the pattern of delta temporality, which it drops with only a debug log "
            f"(the contract says {otlp.temporality})",
            hop=2,
            road=OTLP,
        )
    return Finding(
        Kind.OTLP_NEVER_PUSHED,
        subject=spec.name,
        seen=", ".join(otlp.families[r].name for r in present),
        hop=1,
        road=OTLP,
    )


def _similar_names(pipeline: Pipeline, stem: str, expected: set[str]) -> list[str]:
    """Series names of this run's OTLP job that extend `stem` (other suffixes)."""
    query = f"group by (__name__) ({_regex_selector(pipeline, re.escape(stem) + '.*')})"
    names = {sample.labels.get("__name__", "") for sample in pipeline.store.instant(query)}
    return sorted(names - expected - {""})


def resource_finding(pipeline: Pipeline) -> Finding | None:
    """The road's series in the store under another job or instance than the contract's."""
    otlp = pipeline.contract.otlp
    assert otlp is not None
    names = "|".join(re.escape(name) for name in sorted(pipeline.otlp_series_names))
    query = f"group by (job, instance) ({_regex_selector(pipeline, names, any_job=True)})"
    seen = {
        (sample.labels.get("job", ""), sample.labels.get("instance", ""))
        for sample in pipeline.store.instant(query)
    }
    if not seen or (otlp.job, otlp.instance) in seen:
        return None
    shown = "; ".join(f'job="{job}", instance="{instance}"' for job, instance in sorted(seen))
    return Finding(
        Kind.OTLP_RESOURCE_DIFFERS,
        subject=pipeline.otlp_receiver,
        expected=f'job="{otlp.job}", instance="{otlp.instance}"',
        seen=shown,
        detail=": the exporter takes job from the resource's service.name and instance from "
        "service.instance.id, and the backend's resource does not carry the contract's",
        hop=1,
        road=OTLP,
    )
