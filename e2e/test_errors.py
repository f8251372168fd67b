"""Errors: the error series and `scanium_assistant_errors_total` match the injected faults.

Configurable through the contract's `errors_recorded`, because some backends (the real
Scanium backend among them) answer provider failures with a 200 fallback and record none.
"""

from __future__ import annotations

import pytest

from scanium_e2e.checks.counts import wait_for_counts, wait_for_planned
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.traffic.run import Counts, TrafficRun


@pytest.fixture
def errors_recorded(pipeline: Pipeline, traffic: TrafficRun) -> None:
    if not pipeline.contract.errors_recorded:
        pytest.skip(f"{pipeline.contract.source} says this backend records no errors")
    if not traffic.ledger.count("provider_error"):
        pytest.skip("no provider fault was injected (SCANIUM_E2E_TRAFFIC_ERRORS=0)")


@pytest.mark.usefixtures("errors_recorded")
def test_errors_total_counts_each_injected_fault(pipeline: Pipeline, traffic: TrafficRun) -> None:
    """errors_total by provider rose by the number of provider faults injected."""
    wait_for_planned(pipeline, traffic, "errors")


@pytest.mark.usefixtures("errors_recorded")
def test_error_labels_agree_with_the_answers(pipeline: Pipeline, traffic: TrafficRun) -> None:
    """error_type and reason_code in Mimir are the ones the backend's answers named."""
    expected: Counts = {
        tuple(key): float(value) for key, value in traffic.ledger.expected_errors().items()
    }
    spec = pipeline.contract.errors
    wait_for_counts(
        pipeline,
        what="errors by type and reason",
        metric=spec.name,
        by=("provider", "error_type", "reason_code"),
        expected=expected,
        exact=not pipeline.settings.external_mode,
    )
