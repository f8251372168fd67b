"""What the ledger says each count must rise by, as the checks read the store.

The arithmetic has one home, `scanium_e2e.expectations` (beside the contract, so that
`scanium-e2e traffic` prints the same numbers without importing the checks); this module
names it for the checks and adds what only they need: the queries of a pipeline, and the
sentence for an accounting the contract accepts.
"""

from __future__ import annotations

from scanium_e2e.contract import Contract
from scanium_e2e.expectations import (
    COUNT_ROLES,
    ERROR_ROLES,
    HTTP_LABELS,
    HTTP_ROLES,
    OTLP_COUNT_ROLES,
    OTLP_FAMILY_OF,
    metric_queries,
    planned_counts,
    query_filters,
)
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.traffic import Ledger

__all__ = [
    "COUNT_ROLES",
    "ERROR_ROLES",
    "HTTP_LABELS",
    "HTTP_ROLES",
    "OTLP_COUNT_ROLES",
    "OTLP_FAMILY_OF",
    "accepted_accounting",
    "count_queries",
    "planned_counts",
    "query_filters",
]


def count_queries(pipeline: Pipeline) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Role -> (metric, grouping labels) under the pipeline's contract (`metric_queries`)."""
    return metric_queries(pipeline.contract)


def accepted_accounting(ledger: Ledger, contract: Contract) -> str | None:
    """Why the status counts held only by the contract's leave, or None when they did not.

    A contract whose failures are recorded other than as status=error accepts that on
    purpose; a run that injected faults says so instead of passing silently.
    """
    accounting = contract.failures
    faults = ledger.count("provider_error")
    if not faults or accounting.recorded_as == "error":
        return None
    where = (
        f"as status={contract.status_success}"
        if accounting.recorded_as == "success"
        else "nowhere in the requests metrics"
    )
    return (
        f"{faults} injected LLM failures were counted {where} "
        f"({contract.source}: failures.recorded_as={accounting.recorded_as})"
    )
