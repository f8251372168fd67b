"""Tokens: `scanium_assistant_tokens_used` exists for input, output and total, and its
_sum equals the stub LLM's deterministic usage for the requests sent."""

from __future__ import annotations

import pytest

from scanium_e2e.checks.counts import wait_for_planned, wait_until_settled
from scanium_e2e.checks.expectations import planned_counts
from scanium_e2e.checks.histograms import (
    check_series_and_bounds,
    token_expectations,
    wait_for_placement,
)
from scanium_e2e.checks.labels import depending_on_labels
from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.traffic.run import TrafficRun


def test_token_sums_equal_the_ledger(
    pipeline: Pipeline, traffic: TrafficRun, settlement: CountSettlement
) -> None:
    """_sum by token_type rose by the planned usage of the successful requests."""
    with depending_on_labels(pipeline, settlement, "tokens", ("provider", "token_type")):
        counts = wait_for_planned(pipeline, settlement, "tokens_sum")
    planned = planned_counts(traffic.ledger, pipeline.contract)["tokens_sum"]
    assert {token_type for (_, token_type) in planned} <= {t for (_, t) in counts}


def test_token_observations_equal_the_ledger(
    pipeline: Pipeline, settlement: CountSettlement
) -> None:
    """_count by token_type: one observation per successful LLM call."""
    with depending_on_labels(pipeline, settlement, "tokens", ("provider", "token_type")):
        wait_for_planned(pipeline, settlement, "tokens_count")


def test_token_observations_land_in_the_contract_buckets(
    pipeline: Pipeline, traffic: TrafficRun, settlement: CountSettlement
) -> None:
    """_bucket has exactly the contract's bounds, and per token type each bucket rose by the
    successful calls whose planned usage fits under it (the stub reports exactly that)."""
    wait_until_settled(pipeline, settlement, "tokens_count")
    spec = pipeline.contract.tokens
    check_series_and_bounds(pipeline, spec)
    if pipeline.settings.external_mode:
        return  # a deployment's LLM ignores the usage markers: the bounds are all we know
    placement = wait_for_placement(
        pipeline,
        traffic,
        what="token observations by bucket",
        metric=spec.name,
        labels=("provider", "token_type"),
        bucket_role="tokens_buckets",
        expected=token_expectations(traffic.ledger, pipeline.contract),
        bounds=spec.buckets,
    )
    assert placement.judged or placement.unjudged, "no token observation was judged"


def test_token_sums_equal_what_the_llm_reported(
    pipeline: Pipeline, traffic: TrafficRun, settlement: CountSettlement
) -> None:
    """Mimir's token sums equal the usage the stub LLM's journal says it returned."""
    if not pipeline.endpoints.stub_url:
        pytest.skip("this check needs the stub LLM's journal: only a started stack has one")
    counts = wait_for_planned(pipeline, settlement, "tokens_sum")
    journal = pipeline.stub_journal() or []
    run_id = traffic.ledger.run_id
    usage = [
        entry["usage"]
        for entry in journal
        if entry.get("usage") and entry.get("status") == 200 and run_id in entry.get("text", "")
    ]
    reported = {
        "input": sum(u.get("prompt_tokens", u.get("input_tokens", 0)) for u in usage),
        "output": sum(u.get("completion_tokens", u.get("output_tokens", 0)) for u in usage),
    }
    reported["total"] = reported["input"] + reported["output"]
    provider = traffic.ledger.provider
    assert {t: counts.get((provider, t)) for t in reported} == {
        t: float(v) for t, v in reported.items()
    }
