"""The verdict for people and machines: terminal lines, JSON and the Markdown job summary."""

from __future__ import annotations

import json
from pathlib import Path

from scanium_e2e.errors import CheckFailed
from scanium_e2e.findings import Finding, Kind
from scanium_e2e.verdict.causes import Failure, cause_of, group_causes
from scanium_e2e.verdict.summary import PanelOutcome, Proved, RateLimits, Verdict, uncovered
from scanium_e2e.verdict.writers import append_markdown, markdown, write_json

FORBIDDEN = Finding(Kind.HTTP_STATUS, subject="http://b/metrics", seen="403", detail="x", hop=1)
LADDER = ("Broken hop: 1. backend /metrics: ...", "  hop 1 (backend /metrics): broken - ...")


def failed_verdict() -> Verdict:
    cause = cause_of(CheckFailed("", (FORBIDDEN,)))
    other = cause_of(AssertionError("a | b"))
    failures = [Failure(f"e2e/t.py::t{i}", "setup", cause, LADDER) for i in range(27)]
    failures.append(Failure("e2e/t.py::leak", "call", other))
    return Verdict(
        counts={"failed": 1, "error": 27, "passed": 33},
        seconds=20.26,
        causes=group_causes(failures),
        outside=["'Logs' #4 Errors: loki data source LOKI"],
        panels=[
            PanelOutcome("e2e/test_dashboards.py::test_panel_has_data[1-Rate]", "passed"),
            PanelOutcome("e2e/test_dashboards.py::test_panel_has_data[2-Err]", "failed", "why"),
        ],
        artifacts="/tmp/a",
    )


def test_a_failed_run_names_each_cause_once_then_the_ladder() -> None:
    lines = failed_verdict().lines()
    assert lines[0] == ("28 failed on 2 distinct causes; 1 failed, 27 errors, 33 passed in 20.3 s")
    assert lines[1].startswith("[27 tests] hop 1 (backend /metrics): GET http://b/metrics")
    assert lines[2] == "[1 test: e2e/t.py::leak] a | b"
    assert lines[3] == "the hop ladder, once:"
    assert lines[4:6] == list(LADDER)
    assert lines[6].startswith("not part of this stack (not checked, not counted as passed): ")
    assert lines[7] == "artifacts: /tmp/a"
    assert len(lines) == 8


def test_a_green_run_says_what_it_proved_in_one_line() -> None:
    verdict = Verdict(
        counts={"passed": 61},
        seconds=17.84,
        proved=Proved(requests=29, exact_counts=("requests", "latency_count")),
        panels=[PanelOutcome("p1", "passed"), PanelOutcome("p2", "xfailed", "accepted")],
    )
    assert verdict.lines() == [
        "proved: 29 requests sent; 2 counts exactly the ledger's (requests, latency_count); "
        "1 of 2 panels with data; 61 passed in 17.8 s"
    ]


def test_json_holds_the_causes_and_the_ladder(tmp_path: Path) -> None:
    path = write_json(failed_verdict(), tmp_path / "out" / "verdict.json")
    data = json.loads(path.read_text())
    assert data["outcome"] == "failed"
    assert data["causes"][0]["hop"] == 1 and data["causes"][0]["kind"] == "http-status"
    assert len(data["causes"][0]["tests"]) == 27
    assert data["ladder"]["lines"][0].startswith("Broken hop: 1.")
    assert data["not_part_of_this_stack"] == ["'Logs' #4 Errors: loki data source LOKI"]
    assert [p["outcome"] for p in data["panels"]] == ["passed", "failed"]


def test_markdown_has_the_table_of_causes_and_the_panels(tmp_path: Path) -> None:
    text = markdown(failed_verdict())
    assert "| tests | hop | kind | cause |" in text
    assert "| 27 | 1 | http-status | hop 1 (backend /metrics): GET http://b/metrics" in text
    assert "| 1 |  |  | a \\| b |" in text  # a pipe in a sentence does not break the table
    assert "| e2e/test_dashboards.py::test_panel_has_data[2-Err] | FAILED | why |" in text
    assert "- 'Logs' #4 Errors: loki data source LOKI" in text
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n")
    append_markdown(failed_verdict(), summary)
    assert summary.read_text().startswith("earlier step\n## scanium-e2e: failed")


def test_a_deviation_a_failure_already_says_is_not_repeated() -> None:
    verdict = failed_verdict()
    said = verdict.causes[0].cause.sentence
    assert uncovered(["GET http://b/metrics over", "2 injected failures"], verdict.causes) == [
        "2 injected failures"
    ]
    assert "GET http://b/metrics over" in said


def test_a_check_this_run_could_not_judge_is_said_everywhere(tmp_path: Path) -> None:
    """A green run with a rule not judged (a slow machine): the terminal, JSON and Markdown
    each name it, and it is not among what the run proved."""
    line = "alert rule `P95` holds on the healthy pipeline ({} = 1): this run's requests were slow"
    verdict = Verdict(counts={"passed": 4}, seconds=9.0, unjudged=[line])
    assert verdict.lines() == [
        "4 passed in 9.0 s",
        f"not judged on this run (not checked): {line}",
    ]
    data = json.loads(write_json(verdict, tmp_path / "v.json").read_text())
    assert data["not_judged_on_this_run"] == [line]
    said = markdown(verdict)
    assert "### Not judged on this run (not checked)\n\n- alert rule `P95` holds" in said


def test_the_rate_limits_the_traffic_met_are_in_every_form_of_the_verdict(tmp_path: Path) -> None:
    note = (
        "rate limited: 3 answers HTTP 429 on 2 requests (#4, #7); no Retry-After (the waits "
        "are the sender's backoff); 3.0 s waited before retrying"
    )
    data = {"answers_429": 3, "requests": [4, 7], "limits": {}, "retry_after_answers": 0,
            "waited_s": 3.0}  # fmt: skip
    verdict = Verdict(counts={"passed": 4}, seconds=9.0, rate_limits=RateLimits(note, data))
    assert verdict.lines() == ["4 passed in 9.0 s", note]
    written = json.loads(write_json(verdict, tmp_path / "v.json").read_text())
    assert written["rate_limits"] == data
    assert f"**Rate limits:** {note}" in markdown(verdict)
    assert (
        json.loads(write_json(Verdict(counts={}, seconds=1.0), tmp_path / "w.json").read_text())[
            "rate_limits"
        ]
        is None
    )
