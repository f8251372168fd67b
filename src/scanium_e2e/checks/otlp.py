"""The OTLP road judged as exactly as the scraped one.

What the backend pushes through Alloy's `otelcol` components (contract `otlp`) is counted
against the same ledger (`expectations.planned_otlp`: LLM calls, their durations and tokens,
the span metrics of its chat requests), its rate-limit gauges against the headers the stub
LLM was told to state, and every series of its families against a closed world of labels
(exactly the contract's, values from their vocabularies), with `target_info` carrying the
resource. The counts poll through the same waits as the scraped road's (`checks.counts`),
each final once an export stamped after the traffic is in the store; a missing family is
named by the OTLP road's own hops (`verdict.otlp_diagnose`).

None of this depends on the scrape: a backend whose /metrics Alloy cannot read (the seed
incident) still has its OTLP road judged, and passes it.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from scanium_e2e.checks.counts import otlp_margin, raise_if_otlp_never_arrives, settle_counts
from scanium_e2e.checks.labels import (
    Exposure,
    alloy_components,
    label_set_findings,
    unlisted_findings,
)
from scanium_e2e.checks.labels import value_findings as scraped_value_findings
from scanium_e2e.checks.leaks import series_of_run
from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.checks.waits import poll_check
from scanium_e2e.clients.query import utc_now
from scanium_e2e.contract import Contract, MetricSpec
from scanium_e2e.errors import CheckFailed
from scanium_e2e.expectations import OTLP_COUNT_ROLES, otlp_queries, planned_rate_limits
from scanium_e2e.findings import OTLP, Finding, Kind
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.polling import HardError
from scanium_e2e.secrets import Masker
from scanium_e2e.stack.alloy_config import pipeline_labels
from scanium_e2e.traffic.run import Counts
from scanium_e2e.verdict.otlp_diagnose import family_finding, resource_finding, road_cause
from scanium_e2e.verdict.otlp_diagnose import otlp_state as read_otlp_state

# The role the rate-limit gauges settle under (beside the count roles).
RATE_LIMITS = "rate_limits"
# The resource's own family in the closed world: target_info.
TARGET_INFO = "target_info"
# The labels every OTLP series gets from the resource (service.name, service.instance.id).
RESOURCE_LABELS = ("job", "instance")
_GAUGE_HEADERS = {
    "rate_limit_requests": "x-ratelimit-remaining-requests",
    "rate_limit_tokens": "x-ratelimit-remaining-tokens",
}


def otlp_view(contract: Contract) -> Contract:
    """The contract as the OTLP road's closed world reads it: its families (and
    `target_info`, the resource's), its vocabulary over the contract's."""
    otlp = contract.otlp
    assert otlp is not None
    target_info = MetricSpec(name=TARGET_INFO, type="gauge", labels=otlp.target_info)
    return contract.model_copy(
        update={
            "families": {**otlp.families, TARGET_INFO: target_info},
            "vocabulary": {**contract.vocabulary, **otlp.vocabulary},
        }
    )


def otlp_roles(contract: Contract) -> list[str]:
    """The OTLP count roles this contract's road has (its families decide)."""
    queries = otlp_queries(contract)
    return [role for role in OTLP_COUNT_ROLES if role in queries]


def settle_otlp(pipeline: Pipeline, settlement: CountSettlement) -> None:
    """Settle every OTLP count and the rate-limit gauges at once; each verdict is kept in
    `settlement` for its test (`RATE_LIMITS` for the gauges)."""
    gauges: threading.Thread | None = None
    if _gauge_roles(pipeline.contract):

        def settle_gauges() -> None:
            try:
                settlement.record(RATE_LIMITS, wait_for_rate_limits(pipeline, settlement))
            except Exception as exc:  # kept for its test, which re-raises it
                settlement.record(RATE_LIMITS, exc)

        gauges = threading.Thread(target=settle_gauges, name="otlp-gauges", daemon=True)
        gauges.start()
    try:
        settle_counts(pipeline, settlement, otlp_roles(pipeline.contract), what="OTLP counts")
    finally:
        if gauges is not None:
            gauges.join()


def verdict_of(settlement: CountSettlement, role: str) -> Counts:
    """`role`'s settled counts, or its failure raised."""
    verdict = settlement.verdict(role)
    if verdict is None:
        raise CheckFailed(f"{role} was never settled (no OTLP settlement ran)")
    if isinstance(verdict, Exception):
        raise verdict
    return verdict


def _gauge_roles(contract: Contract) -> list[str]:
    otlp = contract.otlp
    return [role for role in _GAUGE_HEADERS if otlp is not None and role in otlp.families]


@dataclass(frozen=True)
class GaugeReading:
    """The rate-limit gauges at one moment, and whether every one of them then had a
    point stamped after the traffic (a reading nothing can change any more)."""

    values: Counts
    final: bool

    def describe(self) -> str:
        return _describe_gauges(self.values) or "no series"


def _describe_gauges(values: Counts) -> str:
    return ", ".join(
        f"{name}{{limit_type={limit}}}={value:g}" for (name, limit), value in sorted(values.items())
    )


def wait_for_rate_limits(pipeline: Pipeline, settlement: CountSettlement) -> Counts:
    """Poll the rate-limit gauges until a point stamped after the traffic shows what the
    last successes' answers stated (`planned_rate_limits`), keyed by (series name,
    limit_type).

    Final once every gauge series has a point from an export after the traffic: a gauge
    shows the backend's state at collection time, so a wrong value then is the backend's.
    Against a deployment (its LLM ignores the stub's markers) each gauge need only exist
    with a value of 0 or more.
    """
    otlp = pipeline.contract.otlp
    assert otlp is not None
    ended = settlement.run.ledger.finished_at
    roles = _gauge_roles(pipeline.contract)
    names = {otlp.families[role].name: role for role in roles}
    planned = planned_rate_limits(settlement.run.ledger)
    external = pipeline.settings.external_mode
    expected: Counts = {}
    if planned is not None and not external:
        for name, role in names.items():
            value = planned[0] if role == "rate_limit_requests" else planned[1]
            expected[(name, otlp.limit_types.get(role, ""))] = float(value)
    after = ended + otlp_margin(roles[0])

    def probe() -> GaugeReading:
        at = utc_now()  # the values and their finality read at one moment
        values: Counts = {}
        final = True
        for name in names:
            selector = pipeline.selector(name)
            for sample in pipeline.store.instant(f"max by (limit_type) ({selector})", at):
                values[(name, sample.labels.get("limit_type", ""))] = sample.value
            newest = pipeline.store.instant(f"min(timestamp({selector}))", at)
            final = final and bool(newest) and newest[0].value >= after
        missing = [names[name] for name in names if name not in {key[0] for key in values}]
        if missing:
            raise_if_otlp_never_arrives(pipeline, missing[0], ended)
        elif final and not external and values != expected:
            finding = _gauge_finding(values, expected)
            raise HardError(finding.render(), finding)
        return GaugeReading(values, final)

    def settled(reading: GaugeReading) -> bool:
        if external:
            return len(reading.values) >= len(roles) and min(reading.values.values()) >= 0
        return reading.final and reading.values == expected

    result = poll_check(
        pipeline,
        probe,
        settled,
        what="the rate-limit gauges to show "
        + (_describe_gauges(expected) or "a value of 0 or more each"),
        describe=GaugeReading.describe,
        metric=next(iter(names)),
        query=pipeline.selector(next(iter(names))),
        road=OTLP,
        traffic_ended=ended,
    )
    return result.value.values if result.value is not None else {}


def _gauge_finding(values: Counts, expected: Counts) -> Finding:
    wrong = sorted(key for key in expected if values.get(key) != expected[key])
    name, limit = wrong[0]
    role = "rate_limit_requests" if limit == "requests" else "rate_limit_tokens"
    return Finding(
        Kind.GAUGE_WRONG,
        subject=name,
        seen=", ".join(f"{values.get(key, float('nan')):g}" for key in wrong[:1]),
        expected=f"the last answers of the LLM stated {expected[wrong[0]]:g} "
        f"({_GAUGE_HEADERS[role]})",
        detail=", in an export after the traffic: the gauge does not follow the latest headers",
        hop=1,
        road=OTLP,
    )


@dataclass(frozen=True)
class OtlpExposures:
    """This run's OTLP series in the store, as the closed world judges them, and the road's
    broken hop before the store when a family has no series (read once for all tests)."""

    view: Contract
    exposures: tuple[Exposure, ...]
    cause: Finding | None = None

    def has_series(self, family: str) -> bool:
        """Whether any stored series belongs to `family`."""
        names = self.view.families[family].series_names
        return any(
            labels.get("__name__") in names
            for exposure in self.exposures
            for labels in exposure.series
        )


def otlp_exposures(pipeline: Pipeline, traffic_ended: float | None) -> OtlpExposures:
    """The OTLP road's series of this run in the store, with the labels the road adds:
    the resource's `job` and `instance`, the contract's scope labels, and what the remote
    write and the relabel stages on the way add (read from Alloy's config); and, when a
    family has none, the road's broken hop (`road_cause`)."""
    otlp = pipeline.contract.otlp
    assert otlp is not None
    names = pipeline.otlp_series_names
    scope = ",".join(f'{name}="{value}"' for name, value in pipeline.run_matchers().items())
    stored = [
        labels
        for labels in series_of_run(
            pipeline.store, scope or 'job=~".+"', pipeline.started_at, utc_now()
        )
        if labels.get("__name__") in names and labels.get("job") == otlp.job
    ]
    state = read_otlp_state(pipeline)
    added = {*RESOURCE_LABELS, *otlp.scope_labels}
    if state.route is not None:
        components = alloy_components(pipeline, "the OTLP road")
        route = state.route
        added.update(pipeline_labels(components, route.exporter, route.remote_write))
        if route.span_exporter:
            added.update(pipeline_labels(components, route.span_exporter, route.span_remote_write))
    exposure = Exposure(f"{pipeline.store_name} (OTLP)", 1, tuple(stored), frozenset(added))
    seen = OtlpExposures(otlp_view(pipeline.contract), (exposure,))
    if all(seen.has_series(family) for family in seen.view.families):
        return seen
    return dataclasses.replace(seen, cause=road_cause(pipeline, state, traffic_ended))


def _on_road(findings: Sequence[Finding]) -> list[Finding]:
    return [dataclasses.replace(finding, road=OTLP) for finding in findings]


def otlp_label_findings(family: str, seen: OtlpExposures, masker: Masker) -> list[Finding]:
    """Every label a series of the OTLP `family` has beyond the contract's, or lacks."""
    return _on_road(label_set_findings(family, seen.view, seen.exposures, masker))


def otlp_value_findings(
    label: str, seen: OtlpExposures, masker: Masker
) -> tuple[list[Finding], int]:
    """Every value of the OTLP `label` outside its vocabulary; how many were judged."""
    findings, judged = scraped_value_findings(label, seen.view, seen.exposures, masker)
    return _on_road(findings), judged


def otlp_unlisted_findings(seen: OtlpExposures, masker: Masker) -> list[Finding]:
    """The OTLP labels without a vocabulary entry, judged by the default policy; with no
    OTLP series at all, the finding that nothing could be judged."""
    if not any(exposure.series for exposure in seen.exposures):
        return [
            Finding(
                Kind.DEPENDS_ON,
                subject="the OTLP road's families",
                detail="have no series of this run in the store: no label of them could be judged",
            )
        ]
    findings, _ = unlisted_findings(seen.view, seen.exposures, masker)
    return _on_road(findings)


def otlp_labels(contract: Contract) -> list[str]:
    """Every label the OTLP road's families declare that has a vocabulary entry, in a
    stable order (the others follow the default policy: `otlp_unlisted_findings`)."""
    view = otlp_view(contract)
    labels: dict[str, None] = {}
    for spec in view.families.values():
        labels.update(dict.fromkeys((*spec.labels, *spec.optional_labels)))
    return [label for label in labels if label in view.vocabulary]


def unjudged_family(
    pipeline: Pipeline, family: str, seen: OtlpExposures, traffic_ended: float | None
) -> Finding | None:
    """Why the OTLP `family` has no series to judge (the road's broken hop, or what the
    family itself lacks), or None when it has series."""
    spec = seen.view.families[family]
    if seen.has_series(family):
        return None
    if seen.cause is not None:
        return seen.cause
    found = (
        resource_finding(pipeline)
        if family == TARGET_INFO
        else family_finding(pipeline, family, traffic_ended)
    )
    return found or Finding(
        Kind.COULD_NOT_CHECK,
        subject=spec.name,
        detail="no series of it in the store: its labels cannot be judged",
        hop=1,
        road=OTLP,
    )
