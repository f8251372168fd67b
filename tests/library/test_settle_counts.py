"""settle_counts: every count check polls at once; each role keeps its own verdict."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any, cast

import pytest

from scanium_e2e.checks import counts
from scanium_e2e.checks.counts import settle_counts, wait_for_planned
from scanium_e2e.checks.expectations import COUNT_ROLES, ERROR_ROLES
from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.contract import FailureAccounting, load_contract
from scanium_e2e.errors import CheckFailed
from scanium_e2e.findings import Finding, Kind
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.settings import REPO_ROOT
from scanium_e2e.traffic.run import Counts, TrafficRun

CONTRACT = load_contract(REPO_ROOT / "fixtures" / "contract.json")


def fake_pipeline(*, errors_recorded: bool = True) -> Pipeline:
    accounting = FailureAccounting(recorded_as="error", error_counter=errors_recorded)
    contract = CONTRACT.model_copy(update={"failures": accounting})
    assert contract.errors_recorded is errors_recorded
    return cast(Pipeline, SimpleNamespace(contract=contract))


def fake_settlement() -> CountSettlement:
    return CountSettlement(TrafficRun(ledger=cast(Any, None), baseline={}))


def test_roles_poll_at_the_same_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each role waits for all the others: run one after another, the barrier breaks.
    barrier = threading.Barrier(len(COUNT_ROLES), timeout=5)

    def waits_for_the_others(
        pipeline: Pipeline, settlement: CountSettlement, role: str, cancel: threading.Event | None
    ) -> Counts:
        barrier.wait()
        return {(role,): 1.0}

    monkeypatch.setattr(counts, "_wait_for_planned", waits_for_the_others)
    settlement = fake_settlement()
    seconds = settle_counts(fake_pipeline(), settlement)
    assert set(seconds) == set(COUNT_ROLES)
    assert not barrier.broken
    for role in COUNT_ROLES:
        assert wait_for_planned(fake_pipeline(), settlement, role) == {(role,): 1.0}


def test_a_failure_stays_with_its_role(monkeypatch: pytest.MonkeyPatch) -> None:
    def tokens_missing(
        pipeline: Pipeline, settlement: CountSettlement, role: str, cancel: threading.Event | None
    ) -> Counts:
        if role == "tokens_sum":
            raise CheckFailed("tokens sum: Broken hop: 1. backend /metrics")
        return {("openai", "success"): 3.0}

    monkeypatch.setattr(counts, "_wait_for_planned", tokens_missing)
    settlement = fake_settlement()
    settle_counts(fake_pipeline(), settlement)
    with pytest.raises(CheckFailed, match="Broken hop: 1"):
        wait_for_planned(fake_pipeline(), settlement, "tokens_sum")
    assert wait_for_planned(fake_pipeline(), settlement, "requests") == {("openai", "success"): 3.0}


def test_errors_are_not_awaited_when_the_backend_records_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    polled: list[str] = []

    def record(
        pipeline: Pipeline, settlement: CountSettlement, role: str, cancel: threading.Event | None
    ) -> Counts:
        polled.append(role)
        return {}

    monkeypatch.setattr(counts, "_wait_for_planned", record)
    settle_counts(fake_pipeline(errors_recorded=False), fake_settlement())
    assert sorted(polled) == sorted(role for role in COUNT_ROLES if role not in ERROR_ROLES)


def test_threads_are_told_to_stop_when_settling_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[threading.Event] = []

    def keep_event(
        pipeline: Pipeline, settlement: CountSettlement, role: str, cancel: threading.Event | None
    ) -> Counts:
        assert cancel is not None
        events.append(cancel)
        return {}

    monkeypatch.setattr(counts, "_wait_for_planned", keep_event)
    settle_counts(fake_pipeline(), fake_settlement(), ["requests", "tokens_sum"])
    assert len(events) == 2 and all(event.is_set() for event in events)


def test_unsettled_roles_are_polled_on_demand(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, threading.Event | None]] = []

    def direct(
        pipeline: Pipeline, settlement: CountSettlement, role: str, cancel: threading.Event | None
    ) -> Counts:
        calls.append((role, cancel))
        return {("openai",): 2.0}

    monkeypatch.setattr(counts, "_wait_for_planned", direct)
    assert wait_for_planned(fake_pipeline(), fake_settlement(), "errors") == {("openai",): 2.0}
    assert calls == [("errors", None)]


def test_an_empty_verdict_is_settled_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # A role whose plan adds nothing settles with no counts: its test reads that, not a poll.
    def never(
        pipeline: Pipeline, settlement: CountSettlement, role: str, cancel: threading.Event | None
    ) -> Counts:
        raise AssertionError(f"{role} polled again")

    settlement = fake_settlement()
    settlement.record("errors", {})
    monkeypatch.setattr(counts, "_wait_for_planned", never)
    assert wait_for_planned(fake_pipeline(), settlement, "errors") == {}


def test_deviations_named_by_several_roles_are_kept_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every role's thread names the same deviation at once: the summary gets one line.
    barrier = threading.Barrier(len(COUNT_ROLES), timeout=5)
    moved = Finding(
        Kind.COUNT_MOVED,
        subject="scanium_assistant_requests_total",
        expected="status=error",
        seen="status=success",
        detail="2",
    )

    def names_a_deviation(
        pipeline: Pipeline, settlement: CountSettlement, role: str, cancel: threading.Event | None
    ) -> Counts:
        barrier.wait()
        settlement.note_deviation(moved)
        raise CheckFailed(moved.render(), (moved,))

    monkeypatch.setattr(counts, "_wait_for_planned", names_a_deviation)
    settlement = fake_settlement()
    settle_counts(fake_pipeline(), settlement)
    assert settlement.deviations == [moved]
    assert set(settlement.verdicts()) == set(COUNT_ROLES)
    for role in COUNT_ROLES:
        with pytest.raises(CheckFailed) as failed:
            wait_for_planned(fake_pipeline(), settlement, role)
        assert failed.value.findings == (moved,)
