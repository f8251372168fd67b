"""Requests: `scanium_assistant_requests_total` exists for the provider and every status,
its increase equals the ledger exactly, and the cache path the plan exercises is counted
(cache_hit, and the cache-hit-rate gauge)."""

from __future__ import annotations

from collections.abc import Callable

from scanium_e2e.checks.answers import answer_finding
from scanium_e2e.checks.cache import wait_for_cache_split, wait_for_hit_rate
from scanium_e2e.checks.counts import wait_for_planned
from scanium_e2e.checks.expectations import accepted_accounting, planned_counts
from scanium_e2e.checks.labels import depending_on_labels
from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.errors import CheckFailed
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.traffic.run import TrafficRun


def test_traffic_was_answered_as_planned(pipeline: Pipeline, sent_traffic: TrafficRun) -> None:
    """Every request got the answer its kind calls for (200, 400, 401, 404); an answer that
    claims the response cache is set against the stub LLM's journal."""
    ledger = sent_traffic.ledger
    journal = pipeline.stub_journal() if ledger.surprises else None
    finding = answer_finding(ledger, journal)
    if finding is not None:
        raise CheckFailed(pipeline.masker.mask(finding.render()), (finding,))


def test_request_counts_equal_the_ledger(
    pipeline: Pipeline,
    traffic: TrafficRun,
    settlement: CountSettlement,
    accept: Callable[[str], None],
) -> None:
    """Increase of requests_total by (provider, status) == successes and injected faults,
    each status the plan produced present (and, in our own stack, no other)."""
    with depending_on_labels(pipeline, settlement, "requests", ("provider", "status")):
        counts = wait_for_planned(pipeline, settlement, "requests")
    planned = {
        status for (_, status) in planned_counts(traffic.ledger, pipeline.contract)["requests"]
    }
    assert planned <= {status for (_, status) in counts}
    accepted = accepted_accounting(traffic.ledger, pipeline.contract)
    if accepted:
        accept(accepted)


def test_cache_hit_means_what_each_answer_said(
    pipeline: Pipeline, traffic: TrafficRun, settlement: CountSettlement
) -> None:
    """requests_total by cache_hit: "true" exactly for the plan's repeats of its first
    request, which the contract says the cache answers; "false" for every other request the
    counter counts (how many it counts is the test above's business)."""
    with depending_on_labels(pipeline, settlement, "requests", (pipeline.contract.cache.label,)):
        wait_for_cache_split(pipeline, traffic)


def test_cache_hit_rate_is_the_share_of_cache_hits(
    pipeline: Pipeline, traffic: TrafficRun, waive: Callable[[str], None]
) -> None:
    """The cache-hit-rate gauge, scraped after the traffic, is the share of requests the
    cache answered since the backend started (in a stack of our own: the ledger's)."""
    if pipeline.contract.cache_hit_rate is None:
        waive(f"{pipeline.contract.source} names no cache_hit_rate gauge")
    wait_for_hit_rate(pipeline, traffic)
