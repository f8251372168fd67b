"""Requests: `scanium_assistant_requests_total` exists for the provider and every status,
and its increase equals the ledger exactly."""

from __future__ import annotations

from collections.abc import Callable

from scanium_e2e.checks.counts import wait_for_counts, wait_for_planned, wait_until_settled
from scanium_e2e.checks.expectations import accepted_accounting, planned_counts
from scanium_e2e.checks.waits import fail_with_diagnosis
from scanium_e2e.errors import CheckFailed
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.traffic.run import Counts, TrafficRun
from scanium_e2e.verdict.findings import Finding, Kind


def test_traffic_was_answered_as_planned(sent_traffic: TrafficRun) -> None:
    """Every request got the answer its kind calls for (200, 400, 401, 404)."""
    surprises = sent_traffic.ledger.surprises
    if surprises:
        finding = Finding(
            Kind.ANSWER_NOT_PLANNED,
            subject="the backend",
            seen=str(len(surprises)),
            detail="; ".join(surprises),
            hop=1,
        )
        raise CheckFailed(finding.render(), (finding,))


def test_request_counts_equal_the_ledger(
    pipeline: Pipeline, traffic: TrafficRun, accept: Callable[[str], None]
) -> None:
    """Increase of requests_total by (provider, status) == successes and injected faults,
    each status the plan produced present (and, in our own stack, no other)."""
    counts = wait_for_planned(pipeline, traffic, "requests")
    planned = {
        status for (_, status) in planned_counts(traffic.ledger, pipeline.contract)["requests"]
    }
    assert planned <= {status for (_, status) in counts}
    accepted = accepted_accounting(traffic.ledger, pipeline.contract)
    if accepted:
        accept(accepted)


def test_request_series_carry_the_contract_labels(pipeline: Pipeline, traffic: TrafficRun) -> None:
    """Every label the contract names is on every series, with a non-empty value."""
    wait_until_settled(pipeline, traffic, "requests")
    spec = pipeline.contract.requests
    samples = pipeline.store.instant(pipeline.selector(spec.name))
    if not samples:
        raise fail_with_diagnosis(pipeline, f"no {spec.name} series for this run", metric=spec.name)
    for sample in samples:
        missing = [label for label in spec.labels if not sample.labels.get(label)]
        if missing:
            finding = Finding(
                Kind.LABEL_MISSING,
                subject=sample.describe(),
                expected=str(missing),
                seen=str(sorted(sample.labels)),
                hop=5,
            )
            raise CheckFailed(finding.render(), (finding,))
    assert {s.labels["provider"] for s in samples} == {traffic.ledger.provider}


def test_cache_hit_means_what_each_answer_said(pipeline: Pipeline, traffic: TrafficRun) -> None:
    """requests_total by (provider, cache_hit): "true" exactly for the repeats the plan made,
    "false" for every other request it counts. The plan's unique nonces make no repeat, so
    all of them are misses (by what was sent, not by the backend's own `fromCache`)."""
    wait_until_settled(pipeline, traffic, "requests")
    planned = planned_counts(traffic.ledger, pipeline.contract)["requests"]
    repeats = 0  # the plan sends no request twice (traffic/shapes.py: a nonce per request)
    total = sum(planned.values())
    provider = traffic.ledger.provider
    expected: Counts = {(provider, "true"): float(repeats), (provider, "false"): total - repeats}
    wait_for_counts(
        pipeline,
        what="requests by cache_hit",
        metric=pipeline.contract.requests.name,
        by=("provider", "cache_hit"),
        expected={key: value for key, value in expected.items() if value},
        # A deployment's counters hold history: there the counts need only reach the plan.
        exact=not pipeline.settings.external_mode,
        traffic_ended=traffic.ledger.finished_at,
    )
