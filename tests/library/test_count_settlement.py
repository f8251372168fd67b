"""CountSettlement: the count checks' verdicts and deviations, written from many threads."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any, cast

import pytest

from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.errors import CheckFailed
from scanium_e2e.findings import Finding, Kind
from scanium_e2e.traffic.run import TrafficRun


def settlement() -> CountSettlement:
    return CountSettlement(TrafficRun(ledger=cast(Any, None), baseline={}))


def never_created(metric: str) -> Finding:
    return Finding(
        Kind.METRIC_NEVER_CREATED,
        subject=metric,
        detail="http://127.0.0.1:18080/metrics",
        seen="scanium_assistant_requests_total",
    )


def test_threads_writing_at_once_lose_nothing() -> None:
    counts = settlement()
    threads, per_thread = 8, 200
    barrier = threading.Barrier(threads, timeout=5)

    def write(index: int) -> None:
        barrier.wait()
        for step in range(per_thread):
            counts.record(f"role-{index}-{step}", {(str(index),): float(step)})
            counts.note_deviation(never_created(f"metric_{index}_{step}"))
            counts.verdicts()  # a reader copying while the others write
            _ = counts.deviations

    workers = [threading.Thread(target=write, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(counts.verdicts()) == threads * per_thread
    assert len(counts.deviations) == threads * per_thread
    assert counts.verdict("role-3-7") == {("3",): 7.0}


def test_a_failure_is_kept_for_its_role_only() -> None:
    counts = settlement()
    failure = CheckFailed("tokens sum: Broken hop: 1. backend /metrics")
    counts.record("tokens_sum", failure)
    counts.record("requests", {("openai", "success"): 3.0})
    assert counts.verdict("tokens_sum") is failure
    assert counts.verdict("requests") == {("openai", "success"): 3.0}
    assert counts.verdict("errors") is None  # not settled: its test polls it itself


def test_deviations_are_kept_once_in_the_order_named() -> None:
    counts = settlement()
    tokens, errors = never_created("tokens"), never_created("errors")
    for finding in (tokens, errors, never_created("tokens"), tokens):
        counts.note_deviation(finding)
    assert counts.deviations == [tokens, errors]


def test_readers_get_copies() -> None:
    counts = settlement()
    counts.record("requests", {})
    counts.verdicts().clear()
    counts.deviations.append(never_created("tokens"))
    assert counts.verdicts() == {"requests": {}}
    assert counts.deviations == []


def test_the_traffic_run_is_frozen_and_holds_no_verdicts() -> None:
    run = settlement().run
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.gate_failure = RuntimeError("late")  # type: ignore[misc]
    names = {field.name for field in dataclasses.fields(run)}
    assert names == {"ledger", "baseline", "timings", "gate_failure"}
