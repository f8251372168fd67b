"""A wait that reaches its deadline is undecided, never a finding: in the failure, the
verdict, its JSON and the mutation harness's rows."""

from __future__ import annotations

import pytest
from fake_pipeline import FakeAlloy, fake_pipeline, target_json

from scanium_e2e.checks.waits import poll_check
from scanium_e2e.errors import CheckFailed
from scanium_e2e.findings import Finding, Kind
from scanium_e2e.mutation import Variant, VariantResult
from scanium_e2e.suite_run import FindingRef, Outcome
from scanium_e2e.verdict.causes import CauseGroup, cause_of
from scanium_e2e.verdict.summary import Verdict

REFUSED = 'Get "http://scanium-backend:8080/metrics": dial tcp: connect: connection refused'


def test_a_deadline_reached_is_undecided_with_the_ladder_as_evidence() -> None:
    # A hop that looks broken at the deadline was never final: it is evidence, no finding.
    pipeline = fake_pipeline(alloy=FakeAlloy([target_json("down", REFUSED)]))
    pipeline.settings.data_timeout_s = 0.3
    pipeline.settings.poll_interval_s = 0.1
    with pytest.raises(CheckFailed) as raised:
        poll_check(
            pipeline,
            lambda: 0,
            lambda value: value == 1,
            what="`up == 1` in Cortex",
            describe=lambda value: f"up={value}",
        )
    (finding,) = raised.value.findings
    assert isinstance(finding, Finding) and finding.kind == Kind.UNDECIDED
    first, *ladder = str(raised.value).splitlines()
    assert first == (
        "undecided after 0 s: `up == 1` in Cortex was not reached, and nothing seen made the "
        "answer final (last seen: up=0)"
    )
    assert any("hop 2 (Alloy scrape): broken" in line for line in ladder)
    assert cause_of(raised.value).kind == "undecided"


def test_the_verdict_counts_undecided_tests_apart_and_its_json_lists_them() -> None:
    undecided = cause_of(
        CheckFailed("x", (Finding(Kind.UNDECIDED, subject="a wait", seen="60", detail="0"),))
    )
    found = cause_of(CheckFailed("y", (Finding(Kind.COUNT_SHORT, subject="m"),)))
    verdict = Verdict(
        counts={"failed": 3},
        seconds=61.0,
        causes=[
            CauseGroup(undecided, ("e2e/a.py::t1", "e2e/a.py::t2")),
            CauseGroup(found, ("e2e/b.py::t3",)),
        ],
    )
    assert verdict.undecided == ["e2e/a.py::t1", "e2e/a.py::t2"]
    assert (
        "2 of them undecided: their wait reached its deadline before its answer was final "
        "(no finding was made)"
    ) in verdict.lines()
    assert verdict.as_json()["undecided"] == ["e2e/a.py::t1", "e2e/a.py::t2"]


def test_the_harness_names_the_tests_whose_wait_reached_its_deadline() -> None:
    outcome = Outcome(
        code=1,
        output="",
        failed={"t1": "undecided after 60 s: …", "t2": "count short"},
        xfailed={},
        skipped={},
        seconds=70.0,
        texts={},
        findings={
            "t1": (FindingRef(None, "undecided"),),
            "t2": (FindingRef(5, "count-short"),),
        },
    )
    result = VariantResult(Variant("v", "breaks"), outcome, {}, [], 70.0)
    assert result.deadline_reached == ["t1"]
    assert result.as_dict()["deadline_reached"] == ["t1"]
