"""Failures grouped by cause: one line per (hop, kind, subject), the earliest hop first."""

from __future__ import annotations

from scanium_e2e.errors import CheckFailed
from scanium_e2e.findings import Finding, Kind
from scanium_e2e.verdict.causes import Failure, cause_of, group_causes, ladder_of, sentence_of

FORBIDDEN = Finding(
    Kind.HTTP_STATUS,
    subject="http://backend:8080/metrics",
    seen="403",
    detail='{"error": {"code": "HTTPS_REQUIRED"}}',
    hop=1,
)
NEVER_SEEN = Finding(Kind.METRIC_NEVER_SEEN, subject="scanium_assistant_errors_total", detail="")


def test_a_hop_finding_reads_with_its_hop_name() -> None:
    assert sentence_of(FORBIDDEN) == (
        "hop 1 (backend /metrics): GET http://backend:8080/metrics over plain HTTP answered "
        'HTTP 403: {"error": {"code": "HTTPS_REQUIRED"}}'
    )
    assert sentence_of(NEVER_SEEN) == NEVER_SEEN.render()


def test_the_cause_is_the_first_finding_else_the_first_line() -> None:
    failed = CheckFailed("waited 6 s\nBroken hop: 1", (FORBIDDEN, NEVER_SEEN))
    cause = cause_of(failed)
    assert cause.key == (1, "http-status", "http://backend:8080/metrics")
    plain = cause_of(AssertionError("\n  counts differ: 3 != 4\nmore"))
    assert plain.key == (None, "", "counts differ: 3 != 4")
    assert cause_of(None, "E   boom").sentence == "E   boom"


def test_failures_of_one_cause_are_one_group_counting_each_test_once() -> None:
    forbidden, never_seen = (
        cause_of(CheckFailed("", (FORBIDDEN,))),
        cause_of(CheckFailed("", (NEVER_SEEN,))),
    )
    failures = [
        Failure("t::panel_a", "call", never_seen),
        Failure("t::requests", "setup", forbidden, ("Broken hop: 1. backend /metrics", "hop 1")),
        Failure("t::tokens", "setup", forbidden),
        Failure("t::tokens", "teardown", forbidden),
        Failure("t::panel_b", "call", never_seen),
        Failure("t::latency", "setup", forbidden),
    ]
    groups = group_causes(failures)
    # The broken hop first although the panel failed first; then by the tests explained.
    assert [group.cause for group in groups] == [forbidden, never_seen]
    assert groups[0].tests == ("t::requests", "t::tokens", "t::latency")
    assert groups[0].line().startswith("[3 tests] hop 1 (backend /metrics): GET ")
    assert groups[1].tests == ("t::panel_a", "t::panel_b")
    assert ladder_of(groups) == (forbidden.sentence, ("Broken hop: 1. backend /metrics", "hop 1"))


def test_independent_defects_keep_their_own_lines() -> None:
    first = cause_of(AssertionError("leak in /metrics"))
    second = cause_of(AssertionError("series over budget"))
    groups = group_causes([Failure("a", "call", first), Failure("b", "call", second)])
    assert [group.line() for group in groups] == [
        "[1 test: a] leak in /metrics",
        "[1 test: b] series over budget",
    ]
    assert ladder_of(groups) == ("", ())
