"""Errors: the error series and `scanium_assistant_errors_total` match the injected faults.

Configurable through the contract's `failures.error_counter`, because some backends answer
provider failures with a 200 fallback and record none: the criterion is then waived on
purpose (xfail "accepted by contract: ..."), never skipped. A plan without faults expects
no error at all.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from scanium_e2e.checks.counts import wait_for_counts, wait_for_planned
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.traffic.run import Counts, TrafficRun


@pytest.fixture
def errors_recorded(pipeline: Pipeline, traffic: TrafficRun, waive: Callable[[str], None]) -> None:
    if not pipeline.contract.failures.error_counter:
        waive(
            f"the backend has no {pipeline.contract.errors.name} "
            f"({pipeline.contract.source}: failures.error_counter=false)"
        )


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
