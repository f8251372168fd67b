"""The mutation harness's judgement, on JUnit files written here (no Docker)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanium_e2e.errors import CheckFailed
from scanium_e2e.findings import FINDING_PROPERTY, Finding, Kind, finding_json
from scanium_e2e.mutation import (
    IMPRECISE,
    KILLED,
    SURVIVED,
    Variant,
    judge,
    table,
    unkilled,
)
from scanium_e2e.suite_run import read_junit

A = "e2e.test_a::test_one"
B = "e2e.test_a::test_two"
C = "e2e.test_b::test_three"


def _case(test_id: str, failure: str | None = None, finding: Finding | None = None) -> str:
    module, _, name = test_id.partition("::")
    props = ""
    if finding is not None:
        value = json.dumps(finding_json(finding))[1:-1].replace('\\"', "&quot;")
        props = f'<properties><property name="{FINDING_PROPERTY}" value="{value}"/></properties>'
    body = f'<failure message="x">E   CheckFailed: {failure}</failure>' if failure else ""
    return f'<testcase classname="{module}" name="{name}">{props}{body}</testcase>'


def _junit(tmp_path: Path, *cases: str) -> Path:
    path = tmp_path / "junit.xml"
    path.write_text(
        f'<testsuites><testsuite name="pytest">{"".join(cases)}</testsuite></testsuites>',
        encoding="utf-8",
    )
    return path


HTTP_403 = Finding(Kind.HTTP_STATUS, subject="/metrics", seen="403", hop=1)
VARIANT = Variant(name="v", breaks="b", kills={A: (1, "http-status")})


def test_a_failure_s_findings_are_read_back_as_hop_and_kind(tmp_path: Path) -> None:
    outcome = read_junit(_junit(tmp_path, _case(A, "boom", HTTP_403), _case(B)), 1, "", 1.0)
    assert outcome.failed == {A: "boom"}
    assert [ref.key() for ref in outcome.findings[A]] == [(1, "http-status")]
    assert outcome.passed == [B]


def test_killed_precisely_when_only_the_expected_test_fails_with_its_finding(
    tmp_path: Path,
) -> None:
    outcome = read_junit(_junit(tmp_path, _case(A, "boom", HTTP_403), _case(B)), 1, "", 1.0)
    assert judge(VARIANT, outcome, 1.0).verdict == KILLED


def test_a_collateral_failure_makes_the_kill_imprecise(tmp_path: Path) -> None:
    junit = _junit(tmp_path, _case(A, "boom", HTTP_403), _case(B, "also"))
    result = judge(VARIANT, read_junit(junit, 1, "", 1.0), 1.0)
    assert result.verdict == IMPRECISE and result.collateral == [B]


def test_the_right_test_failing_for_another_reason_is_a_survivor(tmp_path: Path) -> None:
    other = Finding(Kind.WRONG_JOB, subject="t", hop=2)
    result = judge(VARIANT, read_junit(_junit(tmp_path, _case(A, "boom", other)), 1, "", 1.0), 1)
    assert result.verdict == SURVIVED
    assert "(2, 'wrong-job')" in result.missed[A]


def test_a_result_s_first_line_is_a_sentence_naming_why_it_is_not_a_precise_kill(
    tmp_path: Path,
) -> None:
    junit = _junit(tmp_path, _case(A, "boom", HTTP_403), _case(B, "also\nmore"))
    imprecise = judge(VARIANT, read_junit(junit, 1, "", 1.0), 1.0)
    assert imprecise.sentence() == (
        f"variant `v` (b) is killed, but {B} failed too, outside its expected set: also"
    )
    survived = judge(VARIANT, read_junit(_junit(tmp_path, _case(A), _case(B)), 0, "", 1.0), 1.0)
    assert survived.sentence() == (f"variant `v` (b) survived: {A} was expected to fail; it passed")
    killed = judge(VARIANT, read_junit(_junit(tmp_path, _case(A, "boom", HTTP_403)), 1, "", 1.0), 1)
    assert killed.sentence() == "variant `v` (b) is killed precisely"


def test_a_failure_without_findings_is_a_survivor(tmp_path: Path) -> None:
    result = judge(VARIANT, read_junit(_junit(tmp_path, _case(A, "assert")), 1, "", 1.0), 1)
    assert result.verdict == SURVIVED and "none" in result.missed[A]


def test_a_passing_suite_is_a_survivor_showing_what_the_test_saw(tmp_path: Path) -> None:
    result = judge(VARIANT, read_junit(_junit(tmp_path, _case(A)), 0, "", 1.0), 1.0)
    assert result.verdict == SURVIVED and result.missed == {A: "passed"}
    assert "missed e2e.test_a::test_one: passed" in table([result.as_dict()], [A], {})


def test_a_bad_input_exit_is_no_kill(tmp_path: Path) -> None:
    result = judge(VARIANT, read_junit(_junit(tmp_path, _case(A, "boom", HTTP_403)), 4, "", 1), 1)
    assert result.verdict == SURVIVED and "pytest" in result.missed


def test_unkilled_lists_the_suite_tests_no_variant_expects() -> None:
    assert unkilled(VARIANT.kills, [A, C], {}) == {C: "no variant kills it"}
    assert unkilled(VARIANT.kills, [A, C], {C: "why"}) == {C: "why"}


def test_check_failed_carries_its_findings() -> None:
    with pytest.raises(CheckFailed) as caught:
        raise CheckFailed("x", (HTTP_403,))
    assert caught.value.findings == (HTTP_403,)
