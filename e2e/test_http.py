"""The HTTP layer: `scanium_http_requests_total` and the HTTP duration histogram's count
equal the ledger per (method, route template, status code), exactly in our own stack.

The contract's `http` section says which route template the backend labels each of the
ledger's requests with (every unknown path under one unmatched value) and which routes
others request (scrapes, probes), left out of the counts. Without it the HTTP families
are judged for their labels only: the tests say so (xfail "accepted by contract").
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from scanium_e2e.checks.counts import wait_for_planned
from scanium_e2e.checks.expectations import HTTP_LABELS, count_queries
from scanium_e2e.checks.labels import depending_on_labels
from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.traffic.run import TrafficRun


@pytest.fixture
def http_accounted(pipeline: Pipeline, traffic: TrafficRun, waive: Callable[[str], None]) -> None:
    if "http_requests" not in count_queries(pipeline):
        waive(
            "the contract has no `http` section (or no http_requests/http_duration family): "
            f"the HTTP layer is judged for its labels only ({pipeline.contract.source})"
        )


@pytest.mark.usefixtures("http_accounted")
def test_http_requests_equal_the_ledger(pipeline: Pipeline, settlement: CountSettlement) -> None:
    """Increase of the HTTP requests counter by (method, route, status_code) == every answer
    the ledger got (a 429 before a retry too), each unknown path under the contract's
    unmatched route."""
    with depending_on_labels(pipeline, settlement, "http_requests", HTTP_LABELS):
        wait_for_planned(pipeline, settlement, "http_requests")


@pytest.mark.usefixtures("http_accounted")
def test_http_durations_equal_the_ledger(pipeline: Pipeline, settlement: CountSettlement) -> None:
    """Increase of the HTTP duration histogram's count by (method, route, status_code) ==
    every answer the ledger got: each answer observed once."""
    with depending_on_labels(pipeline, settlement, "http_duration", HTTP_LABELS):
        wait_for_planned(pipeline, settlement, "http_duration_count")
