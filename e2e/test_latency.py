"""Latency: the histogram's _bucket, _sum and _count exist, _count equals the ledger,
and p95 is computable."""

from __future__ import annotations

import math
from collections.abc import Callable

from scanium_e2e.checks.counts import wait_for_planned, wait_until_settled
from scanium_e2e.checks.expectations import accepted_accounting
from scanium_e2e.checks.waits import fail_with_diagnosis
from scanium_e2e.errors import CheckFailed
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.traffic.run import TrafficRun
from scanium_e2e.verdict.findings import Finding, Kind


def test_latency_count_equals_the_ledger(
    pipeline: Pipeline, traffic: TrafficRun, accept: Callable[[str], None]
) -> None:
    """One latency observation per request that reached the assistant."""
    wait_for_planned(pipeline, traffic, "latency_count")
    accepted = accepted_accounting(traffic.ledger, pipeline.contract)
    if accepted:
        accept(accepted)


def test_latency_histogram_series_and_buckets(pipeline: Pipeline, traffic: TrafficRun) -> None:
    """_bucket (with exactly the contract's bounds), _sum and _count are all in Mimir."""
    wait_until_settled(pipeline, traffic, "latency_count")
    spec = pipeline.contract.latency
    for suffix in ("_bucket", "_sum", "_count"):
        if not pipeline.store.instant(pipeline.selector(spec.name + suffix)):
            raise fail_with_diagnosis(
                pipeline, f"no {spec.name}{suffix} series for this run", metric=spec.name + suffix
            )
    bounds = {
        float(sample.labels["le"])
        for sample in pipeline.store.instant(pipeline.selector(spec.name + "_bucket"))
    }
    if bounds != {*spec.buckets, math.inf}:
        finding = Finding(
            Kind.BUCKETS_DIFFER,
            subject=f"{spec.name}_bucket",
            expected=str(sorted({*spec.buckets, math.inf})),
            seen=str(sorted(bounds)),
            hop=5,
        )
        raise CheckFailed(finding.render(), (finding,))


def test_p95_latency_is_computable(pipeline: Pipeline, traffic: TrafficRun) -> None:
    """histogram_quantile(0.95, sum by (le) (rate(..._bucket[5m]))) is a finite number,
    as the dashboard's p95 panel computes it."""
    wait_until_settled(pipeline, traffic, "latency_count")
    spec = pipeline.contract.latency
    query = (
        f"histogram_quantile(0.95, sum by (le) "
        f"(rate({pipeline.selector(spec.name + '_bucket')}[5m])))"
    )
    result = pipeline.store.instant(query)
    if not result:
        raise fail_with_diagnosis(
            pipeline, f"`{query}` is empty", metric=spec.name + "_bucket", query=query
        )
    assert math.isfinite(result[0].value) and result[0].value > 0, result[0].describe()
