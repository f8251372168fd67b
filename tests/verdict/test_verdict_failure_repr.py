"""A failed test's summary line and JUnit message are its cause's sentence, masked; a
CheckFailed prints its findings and ladder, not library frames; a shared fixture's failure
is printed in full once; the verdict section groups the failures by cause."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

pytest_plugins = ("pytester",)

SECRET = "sk-e2e-abcdefghijklmnopqrstuvwx"

SUITE = f'''
import pytest
from scanium_e2e.errors import CheckFailed
from scanium_e2e.suite_plugin import session_masker
from scanium_e2e.findings import Finding, Kind

FORBIDDEN = Finding(Kind.HTTP_STATUS, subject="http://backend:8080/metrics", seen="403",
                    detail="HTTPS_REQUIRED for {SECRET}", hop=1)
LADDER = ("Broken hop: 1. backend /metrics: answered HTTP 403",
          "  hop 1 (backend /metrics): broken - answered HTTP 403",
          "  hop 2 (Alloy scrape): broken - got HTTP 403")

def deep(level):
    if level:
        deep(level - 1)
    raise CheckFailed("`up == 1` not reached: HTTP 403 with {SECRET}\\n" + "\\n".join(LADDER),
                      (FORBIDDEN,), ladder=LADDER)

@pytest.fixture(scope="session")
def traffic(request):
    session_masker(request.config).add("{SECRET}")
    deep(5)

def test_requests(traffic):
    pass

def test_tokens(traffic):
    pass

def test_plain(request):
    session_masker(request.config).add("{SECRET}")
    assert 1 == 2, "counts differ for {SECRET}"
'''


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.RunResult:
    # As on CI: pytest prints summary lines whole, not cut to the terminal's width.
    monkeypatch.setenv("CI", "true")
    pytester.makeconftest('pytest_plugins = ("scanium_e2e.suite_plugin",)')
    pytester.makepyfile(test_suite=SUITE)
    return pytester.runpytest("-rfE", "--junitxml=junit.xml", "-p", "no:cacheprovider")


def test_summary_lines_are_the_sentences(run: pytest.RunResult) -> None:
    text = run.stdout.str()
    assert SECRET not in text
    run.stdout.fnmatch_lines(
        [
            "FAILED test_suite.py::test_plain - AssertionError: counts differ for ***",
            "ERROR test_suite.py::test_requests - hop 1 (backend /metrics): GET "
            "http://backend:8080/metrics over plain HTTP answered HTTP 403: HTTPS_REQUIRED for ***",
        ]
    )


def test_a_check_failed_prints_its_text_not_library_frames(run: pytest.RunResult) -> None:
    text = run.stdout.str()
    assert "def deep(level)" not in text  # no source listing of the raising frames
    assert text.count("E   scanium_e2e.errors.CheckFailed: `up == 1` not reached") == 2
    # The whole diagnosis once; the second test points at the first.
    assert text.count("E     hop 2 (Alloy scrape): broken - got HTTP 403") == 1
    assert "CheckFailed (the same failure as test_suite.py::test_requests, printed in full" in text


def test_junit_messages_are_the_sentences(run: pytest.RunResult, pytester: pytest.Pytester) -> None:
    root = ET.parse(pytester.path / "junit.xml").getroot()
    messages = {
        case.get("name"): element.get("message", "")
        for case in root.iter("testcase")
        for element in [*case.iter("failure"), *case.iter("error")]
    }
    assert messages["test_requests"].startswith(
        'failed on setup with "hop 1 (backend /metrics): GET http://backend:8080/metrics'
    )
    assert "***" in messages["test_requests"] and SECRET not in messages["test_requests"]
    assert messages["test_plain"].startswith("AssertionError: counts differ for ***")
    assert SECRET not in (pytester.path / "junit.xml").read_text()


def test_the_verdict_groups_the_failures_by_cause(run: pytest.RunResult) -> None:
    lines = run.stdout.lines
    start = next(i for i, line in enumerate(lines) if "= verdict =" in line)
    # The verdict is last: pytest's closing tally line follows it.
    end = next(i for i, line in enumerate(lines) if i > start and line.startswith("==="))
    section = lines[start + 1 : end]
    assert section[0].startswith("3 failed on 2 distinct causes; 1 failed, 2 errors in ")
    assert section[1].startswith("[2 tests] hop 1 (backend /metrics): GET ")
    assert section[2] == "[1 test: test_suite.py::test_plain] AssertionError: counts differ for ***"
    assert section[3] == "the hop ladder, once:"
    assert section[4] == "Broken hop: 1. backend /metrics: answered HTTP 403"
    assert len(section) == 7


def test_a_file_that_cannot_be_collected_is_a_cause(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ("scanium_e2e.suite_plugin",)')
    pytester.makepyfile(test_broken="def test_x(:\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--continue-on-collection-errors")
    result.stdout.fnmatch_lines(
        [
            "1 failed on 1 distinct cause; 1 error in *",
            "[[]1 test: test_broken.py[]] collecting test_broken.py failed: SyntaxError: *",
        ]
    )


def test_the_last_screen_is_the_verdict_naming_the_cause(run: pytest.RunResult) -> None:
    """pytest's short summary repeats each failure's sentence; the verdict, grouped by
    cause, comes after it: the end of the output names the cause."""
    lines = run.stdout.lines
    summary = max(i for i, line in enumerate(lines) if "short test summary info" in line)
    verdict = max(i for i, line in enumerate(lines) if "= verdict =" in line)
    assert verdict > summary
    assert any("403" in line for line in lines[verdict:])
