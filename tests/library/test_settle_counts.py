"""settle_counts: every count check polls at once; each role keeps its own verdict."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any, cast

import pytest

from scanium_e2e.checks import counts
from scanium_e2e.checks.counts import settle_counts, wait_for_planned
from scanium_e2e.checks.expectations import COUNT_ROLES, ERROR_ROLES
from scanium_e2e.errors import CheckFailed
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.traffic.run import Counts, TrafficRun


def fake_pipeline(*, errors_recorded: bool = True) -> Pipeline:
    contract = SimpleNamespace(errors_recorded=errors_recorded)
    return cast(Pipeline, SimpleNamespace(contract=contract))


def fake_run() -> TrafficRun:
    return TrafficRun(ledger=cast(Any, None), baseline={})


def test_roles_poll_at_the_same_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each role waits for all the others: run one after another, the barrier breaks.
    barrier = threading.Barrier(len(COUNT_ROLES), timeout=5)

    def waits_for_the_others(
        pipeline: Pipeline, run: TrafficRun, role: str, cancel: threading.Event | None
    ) -> Counts:
        barrier.wait()
        return {(role,): 1.0}

    monkeypatch.setattr(counts, "_wait_for_planned", waits_for_the_others)
    run = fake_run()
    seconds = settle_counts(fake_pipeline(), run)
    assert set(seconds) == set(COUNT_ROLES)
    assert not barrier.broken
    for role in COUNT_ROLES:
        assert wait_for_planned(fake_pipeline(), run, role) == {(role,): 1.0}


def test_a_failure_stays_with_its_role(monkeypatch: pytest.MonkeyPatch) -> None:
    def tokens_missing(
        pipeline: Pipeline, run: TrafficRun, role: str, cancel: threading.Event | None
    ) -> Counts:
        if role == "tokens_sum":
            raise CheckFailed("tokens sum: Broken hop: 1. backend /metrics")
        return {("openai", "success"): 3.0}

    monkeypatch.setattr(counts, "_wait_for_planned", tokens_missing)
    run = fake_run()
    settle_counts(fake_pipeline(), run)
    with pytest.raises(CheckFailed, match="Broken hop: 1"):
        wait_for_planned(fake_pipeline(), run, "tokens_sum")
    assert wait_for_planned(fake_pipeline(), run, "requests") == {("openai", "success"): 3.0}


def test_errors_are_not_awaited_when_the_backend_records_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    polled: list[str] = []

    def record(
        pipeline: Pipeline, run: TrafficRun, role: str, cancel: threading.Event | None
    ) -> Counts:
        polled.append(role)
        return {}

    monkeypatch.setattr(counts, "_wait_for_planned", record)
    settle_counts(fake_pipeline(errors_recorded=False), fake_run())
    assert sorted(polled) == sorted(role for role in COUNT_ROLES if role not in ERROR_ROLES)


def test_threads_are_told_to_stop_when_settling_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[threading.Event] = []

    def keep_event(
        pipeline: Pipeline, run: TrafficRun, role: str, cancel: threading.Event | None
    ) -> Counts:
        assert cancel is not None
        events.append(cancel)
        return {}

    monkeypatch.setattr(counts, "_wait_for_planned", keep_event)
    settle_counts(fake_pipeline(), fake_run(), ["requests", "tokens_sum"])
    assert len(events) == 2 and all(event.is_set() for event in events)


def test_unsettled_roles_are_polled_on_demand(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, threading.Event | None]] = []

    def direct(
        pipeline: Pipeline, run: TrafficRun, role: str, cancel: threading.Event | None
    ) -> Counts:
        calls.append((role, cancel))
        return {("openai",): 2.0}

    monkeypatch.setattr(counts, "_wait_for_planned", direct)
    assert wait_for_planned(fake_pipeline(), fake_run(), "errors") == {("openai",): 2.0}
    assert calls == [("errors", None)]
