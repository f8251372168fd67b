"""Errors: the error series and `scanium_assistant_errors_total` match the injected faults.

Configurable through the contract's `failures.error_counter`, because some backends answer
provider failures with a 200 fallback and record none: the criterion is then waived on
purpose (xfail "accepted by contract: ..."), never skipped. A plan without faults expects
no error at all.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from scanium_e2e.checks.counts import wait_for_planned
from scanium_e2e.checks.labels import depending_on_labels
from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.traffic.run import TrafficRun

ERROR_LABEL_NAMES = ("provider", "error_type", "reason_code")


@pytest.fixture
def errors_recorded(pipeline: Pipeline, traffic: TrafficRun, waive: Callable[[str], None]) -> None:
    if not pipeline.contract.failures.error_counter:
        waive(
            f"the backend has no {pipeline.contract.errors.name} "
            f"({pipeline.contract.source}: failures.error_counter=false)"
        )


@pytest.mark.usefixtures("errors_recorded")
def test_errors_total_counts_each_injected_fault(
    pipeline: Pipeline, settlement: CountSettlement
) -> None:
    """errors_total by provider rose by the number of provider faults injected."""
    with depending_on_labels(pipeline, settlement, "errors", ("provider",)):
        wait_for_planned(pipeline, settlement, "errors")


@pytest.mark.usefixtures("errors_recorded")
def test_error_labels_name_each_injected_fault(
    pipeline: Pipeline, settlement: CountSettlement
) -> None:
    """errors_total by (error_type, reason_code) rose by the faults injected, each under the
    labels the contract's `faults` gives its kind (without an entry: the answer's). The plan
    injects every fault kind the contract maps at least once."""
    with depending_on_labels(pipeline, settlement, "errors", ERROR_LABEL_NAMES):
        wait_for_planned(pipeline, settlement, "errors_by_type")
