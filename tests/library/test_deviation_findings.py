"""Deviations decided on counts and series: a count moved to a sibling, a metric never created."""

from __future__ import annotations

from scanium_e2e.checks.deviations import (
    could_still_move,
    moved_count,
    moved_finding,
    never_created,
)
from scanium_e2e.checks.expectations import planned_counts
from scanium_e2e.contract import FailureAccounting, load_contract
from scanium_e2e.findings import Kind
from scanium_e2e.metrics_text import TextSample
from scanium_e2e.settings import REPO_ROOT
from scanium_e2e.traffic.run import Counts

CONTRACT = load_contract(REPO_ROOT / "fixtures" / "contract.json")
BY = ("provider", "status")
PLAN: Counts = {("openai", "success"): 8.0, ("openai", "error"): 2.0}


def test_faults_counted_as_successes_are_named_in_one_sentence() -> None:
    moved = moved_count(PLAN, {("openai", "success"): 10.0}, BY, exact=True)
    assert moved is not None
    finding = moved_finding(moved, "scanium_assistant_requests_total", CONTRACT)
    assert finding.kind == Kind.FAILURES_COUNTED_AS_SUCCESS
    assert finding.render().startswith(
        "2 injected LLM failures were counted as status=success in "
        "`scanium_assistant_requests_total`"
    )


def test_a_partial_scrape_is_not_yet_a_move_but_may_become_one() -> None:
    partial: Counts = {("openai", "success"): 9.0}
    assert moved_count(PLAN, partial, BY, exact=True) is None
    assert could_still_move(PLAN, partial)
    assert not could_still_move(PLAN, {("openai", "success"): 11.0})


def test_counts_without_a_label_cannot_still_move() -> None:
    # The provider label is missing: ("", "success") never becomes ("openai", "success").
    assert not could_still_move(PLAN, {("", "success"): 1.0})


def test_a_shared_deployment_needs_the_value_never_seen_and_the_sibling_grown() -> None:
    assert moved_count(PLAN, {("openai", "success"): 15.0}, BY, exact=False) is not None
    assert (
        moved_count(PLAN, {("openai", "success"): 15.0, ("openai", "error"): 1.0}, BY, exact=False)
        is None
    )
    assert moved_count(PLAN, {("openai", "success"): 9.0}, BY, exact=False) is None


def test_the_right_counts_move_nothing() -> None:
    assert moved_count(PLAN, dict(PLAN), BY, exact=True) is None
    assert moved_count({}, {}, BY, exact=True) is None


def sample(name: str) -> TextSample:
    return TextSample(name, {"provider": "openai"}, 1.0)


def test_a_metric_missing_among_its_siblings_was_never_created() -> None:
    samples = [
        sample("scanium_assistant_requests_total"),
        sample("scanium_assistant_tokens_used_sum"),
    ]
    finding = never_created("scanium_assistant_errors_total", samples, CONTRACT, "http://b/metrics")
    assert finding is not None and finding.kind == Kind.METRIC_NEVER_CREATED
    assert finding.render().startswith("scanium_assistant_errors_total was never created")
    assert "scanium_assistant_requests_total" in finding.seen
    assert never_created("scanium_assistant_errors_total", [], CONTRACT, "u") is None
    present = [*samples, sample("scanium_assistant_errors_total")]
    assert never_created("scanium_assistant_errors_total", present, CONTRACT, "u") is None


class _Ledger:
    provider = "openai"

    def __init__(self, successes: int, faults: int) -> None:
        self.entries = [
            type(
                "E",
                (),
                {
                    "kind": "success",
                    "planned_input_tokens": 1,
                    "planned_output_tokens": 1,
                    "retries": 0,
                    "http_status": 200,
                },
            )
            for _ in range(successes)
        ] + [
            type(
                "E",
                (),
                {
                    "kind": "provider_error",
                    "fault": "500",
                    "planned_input_tokens": None,
                    "planned_output_tokens": None,
                    "retries": 0,
                    "http_status": 200,
                },
            )
            for _ in range(faults)
        ]


def test_plans_follow_the_contracts_failure_accounting() -> None:
    ledger = _Ledger(3, 2)
    ours = planned_counts(ledger, CONTRACT)  # type: ignore[arg-type]
    assert ours["requests"] == {("openai", "success"): 3.0, ("openai", "error"): 2.0}
    as_success = CONTRACT.model_copy(
        update={"failures": FailureAccounting(recorded_as="success", error_counter=False)}
    )
    theirs = planned_counts(ledger, as_success)  # type: ignore[arg-type]
    assert theirs["requests"] == {("openai", "success"): 5.0}
    assert theirs["errors"] == {}
    nowhere = CONTRACT.model_copy(
        update={"failures": FailureAccounting(recorded_as="not_recorded")}
    )
    assert planned_counts(ledger, nowhere)["requests"] == {("openai", "success"): 3.0}  # type: ignore[arg-type]


def test_a_plan_without_faults_expects_no_error_status() -> None:
    planned = planned_counts(_Ledger(3, 0), CONTRACT)  # type: ignore[arg-type]
    assert planned["requests"] == {("openai", "success"): 3.0}
    assert planned["errors"] == {}


def test_counts_moved_along_one_label_for_every_status_are_named_at_once() -> None:
    """cache_hit inverted: every status's count sits under the other cache_hit value."""
    from scanium_e2e.checks.deviations import moved_count

    expected: Counts = {("openai", "success", "false"): 9.0, ("openai", "error", "false"): 2.0}
    increase: Counts = {("openai", "success", "true"): 9.0, ("openai", "error", "true"): 2.0}
    moved = moved_count(expected, increase, ("provider", "status", "cache_hit"), exact=True)
    assert moved is not None and moved.label == "cache_hit"
    assert moved.to_key[2] == "true" and moved.amount in (2.0, 9.0)


def test_a_label_missing_on_every_series_is_no_moved_count() -> None:
    from scanium_e2e.checks.deviations import moved_count

    expected: Counts = {("openai", "success", "false"): 9.0, ("openai", "error", "false"): 2.0}
    increase: Counts = {("openai", "success", ""): 9.0, ("openai", "error", ""): 2.0}
    assert moved_count(expected, increase, ("provider", "status", "cache_hit"), exact=True) is None


def test_counts_still_arriving_are_no_moved_count() -> None:
    from scanium_e2e.checks.deviations import moved_count

    expected: Counts = {("openai", "success", "false"): 9.0, ("openai", "error", "false"): 2.0}
    increase: Counts = {("openai", "success", "false"): 5.0}
    assert moved_count(expected, increase, ("provider", "status", "cache_hit"), exact=True) is None
