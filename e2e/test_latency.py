"""Latency: the histogram's _bucket, _sum and _count exist, _count equals the ledger, each
observation lands in the bucket its known delay and round trip allow, and p95 is
computable."""

from __future__ import annotations

from collections.abc import Callable

from scanium_e2e.checks.counts import wait_for_planned, wait_until_settled
from scanium_e2e.checks.expectations import accepted_accounting
from scanium_e2e.checks.histograms import (
    check_series_and_bounds,
    latency_expectations,
    wait_for_placement,
    wait_for_quantile,
)
from scanium_e2e.checks.labels import depending_on_labels
from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.checks.waits import fail_with_diagnosis
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.traffic.run import TrafficRun


def test_latency_count_equals_the_ledger(
    pipeline: Pipeline,
    traffic: TrafficRun,
    settlement: CountSettlement,
    accept: Callable[[str], None],
) -> None:
    """One latency observation per request that reached the assistant."""
    with depending_on_labels(pipeline, settlement, "latency", ("provider", "status")):
        wait_for_planned(pipeline, settlement, "latency_count")
    accepted = accepted_accounting(traffic.ledger, pipeline.contract)
    if accepted:
        accept(accepted)


def test_latency_histogram_series_and_buckets(
    pipeline: Pipeline, settlement: CountSettlement
) -> None:
    """_bucket (with exactly the contract's bounds), _sum and _count are all in the store."""
    wait_until_settled(pipeline, settlement, "latency_count")
    check_series_and_bounds(pipeline, pipeline.contract.latency)


def test_latency_observations_land_where_the_ledger_says(
    pipeline: Pipeline, traffic: TrafficRun, settlement: CountSettlement
) -> None:
    """Per provider and status, each bucket rose by no fewer requests than those whose round
    trip fit under its bound and no more than those whose stub delay did; _sum lies between
    the delays' sum and the round trips'. The plan delays one request into each bucket up to
    1 s, so a latency recorded in another unit than the contract's cannot pass."""
    wait_until_settled(pipeline, settlement, "latency_count")
    spec = pipeline.contract.latency
    if not pipeline.store.instant(pipeline.selector(spec.name + "_bucket")):
        raise fail_with_diagnosis(
            pipeline, f"no {spec.name}_bucket series for this run", metric=spec.name + "_bucket"
        )
    expected = latency_expectations(
        traffic.ledger, pipeline.contract, delays_hold=bool(pipeline.endpoints.stub_url)
    )
    placement = wait_for_placement(
        pipeline,
        traffic,
        what="latency observations by bucket",
        metric=spec.name,
        labels=("provider", "status"),
        bucket_role="latency_buckets",
        sum_role="latency_sum",
        expected=expected,
        bounds=spec.buckets,
        unit=spec.unit,
    )
    assert placement.judged or placement.unjudged, "no latency observation was judged"


def test_p95_latency_is_computable(pipeline: Pipeline, settlement: CountSettlement) -> None:
    """histogram_quantile(0.95, sum by (le) (rate(..._bucket[5m]))) is a finite number,
    as the dashboard's p95 panel computes it."""
    wait_until_settled(pipeline, settlement, "latency_count")
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
    # Fails, naming the value, unless it is a finite latency above 0 once the store holds a
    # complete scrape of the buckets taken after the traffic.
    wait_for_quantile(pipeline, query, spec.name + "_bucket", settlement.run.ledger.finished_at)
