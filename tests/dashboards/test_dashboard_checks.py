"""replay_dashboard and settle_dashboard: what ends the wait, and whose failure is whose."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from dashboard_fixtures import END, START

from scanium_e2e.checks import dashboards as dashboard_checks
from scanium_e2e.checks import waits
from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.dashboards import (
    DATA,
    EMPTY,
    Dashboard,
    DashboardResult,
    PanelResult,
    TargetResult,
    parse_dashboard,
)
from scanium_e2e.dashboards.model import Panel
from scanium_e2e.dashboards.variables import ResolvedVariables
from scanium_e2e.errors import CheckFailed
from scanium_e2e.findings import Finding, Kind
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.secrets import Masker
from scanium_e2e.session.artifacts import write_dashboard_artifact
from scanium_e2e.traffic.run import TrafficRun
from scanium_e2e.verdict.diagnose import Diagnosis

DASHBOARD = parse_dashboard(
    {"title": "D", "panels": [{"id": 1, "title": "Requests", "type": "stat"}]}, source="d.json"
)


def result_with(finding: Finding) -> DashboardResult:
    panel = PanelResult(DASHBOARD.panels[0], "Requests", EMPTY, "A: no series")
    panel.findings.append(finding)
    result = DashboardResult(DASHBOARD, START, END, 15.0, ResolvedVariables())
    result.panels.append(panel)
    return result


def canned_pipeline(
    monkeypatch: pytest.MonkeyPatch, dashboard: Dashboard, results: list[DashboardResult]
) -> tuple[Pipeline, CountSettlement, list[int]]:
    """A pipeline whose replays return `results` in turn (the last repeating)."""
    calls: list[int] = []

    def canned(*args: Any, **kwargs: Any) -> DashboardResult:
        calls.append(1)
        return results[min(len(calls), len(results)) - 1]

    monkeypatch.setattr(dashboard_checks, "load_dashboard", lambda path: dashboard)
    monkeypatch.setattr(dashboard_checks, "check_dashboard", canned)
    # No hop to diagnose in a canned replay.
    monkeypatch.setattr(waits, "diagnosis_of", lambda *args: Diagnosis(hops=()))
    settings = SimpleNamespace(
        scrape_interval_s=15.0, data_timeout_s=0.6, poll_interval_s=0.1, dashboard_vars={}
    )
    pipeline = cast(
        Pipeline,
        SimpleNamespace(
            settings=settings,
            contract=SimpleNamespace(allow_empty_panels=()),
            store=None,
            masker=Masker(),
        ),
    )
    ledger = SimpleNamespace(started_at=datetime(2026, 11, 26, 10, tzinfo=UTC).timestamp())
    run = TrafficRun(ledger=cast(Any, ledger), baseline={})
    return pipeline, CountSettlement(run), calls


def replay(monkeypatch: pytest.MonkeyPatch, result: DashboardResult) -> tuple[str, int]:
    """Replay against a canned result; the failure message and how many replays it took."""
    pipeline, run, calls = canned_pipeline(monkeypatch, DASHBOARD, [result])
    with pytest.raises(CheckFailed) as failed:
        dashboard_checks.replay_dashboard(pipeline, Path("d.json"), run)
    return str(failed.value), len(calls)


def test_a_metric_never_seen_ends_the_wait_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    never = Finding(Kind.METRIC_NEVER_SEEN, subject="requests_total", detail="between a and b")
    message, replays = replay(monkeypatch, result_with(never))
    assert replays == 1
    assert "panel 'Requests' is empty" in message
    assert "why: `requests_total`: metric never seen between a and b" in message


def test_other_findings_wait_even_when_their_text_says_never_seen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The decision is on the kind, not the words: an error text quoting the words
    # "metric never seen" is no metric-never-seen finding, and the wait goes on.
    other = Finding(
        Kind.COULD_NOT_CHECK, subject="requests_total", detail="metric never seen, says Mimir"
    )
    message, replays = replay(monkeypatch, result_with(other))
    assert replays > 1
    assert message.startswith("undecided after 1 s: every panel of 'D' has data was not reached")


TWO = parse_dashboard(
    {
        "title": "Two",
        "panels": [
            {"id": 1, "title": "Errors", "type": "stat", "targets": [{"expr": "errors_total"}]},
            {"id": 2, "title": "Requests", "type": "stat", "targets": [{"expr": "requests"}]},
        ],
    },
    source="two.json",
)
ERRORS, REQUESTS = TWO.panels
NEVER = Finding(Kind.METRIC_NEVER_SEEN, subject="errors_total", detail="in the window")
FEW = Finding(Kind.TOO_FEW_SAMPLES, subject="requests", expected="2", seen="at most 1")


def verdict(panel: Panel, status: str, *findings: Finding) -> PanelResult:
    detail = "1 series" if status == DATA else "A: no series"
    result = PanelResult(panel, panel.title, status, detail)
    query = panel.targets[0].expr
    result.targets.append(TargetResult("A", query, query, status))
    result.findings.extend(findings)
    return result


def two(errors: PanelResult, requests: PanelResult) -> DashboardResult:
    result = DashboardResult(TWO, START, END, 15.0, ResolvedVariables())
    result.panels.extend([errors, requests])
    return result


def settle(
    monkeypatch: pytest.MonkeyPatch, results: list[DashboardResult]
) -> tuple[dashboard_checks.DashboardReplay, int]:
    pipeline, run, calls = canned_pipeline(monkeypatch, TWO, results)
    return dashboard_checks.settle_dashboard(pipeline, Path("two.json"), run), len(calls)


def test_a_settled_panel_waits_for_the_others_then_fails_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Requests is still filling at the first replay: the wait goes on for it, and ends at
    # the second replay, when only the metric never seen is left.
    replay, replays = settle(
        monkeypatch,
        [
            two(verdict(ERRORS, EMPTY, NEVER), verdict(REQUESTS, EMPTY, FEW)),
            two(verdict(ERRORS, EMPTY, NEVER), verdict(REQUESTS, DATA)),
        ],
    )
    assert replays == 2
    assert replay.panel_failure(REQUESTS) == ""
    mine = replay.panel_failure(ERRORS)
    # The first line (what a one-line summary shows) names the panel and the finding.
    assert mine.startswith(
        "panel 1 Errors: empty: A: no series; `errors_total`: metric never seen in the window"
        "\nquery A: errors_total\n"
    )
    assert "why: `errors_total`" not in mine  # said once
    assert "Requests" not in mine  # no other panel's row
    # The whole table is the dashboard's failure, said once.
    assert "panel 'Errors' is empty" in replay.failure
    assert "2   Requests" in replay.failure and "1 series" in replay.failure
    assert repr(replay).startswith("DashboardReplay('Two': 1 of 2 panels failing, 2 replay(s)")


def test_at_the_deadline_each_panel_fails_with_its_own_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    replay, replays = settle(
        monkeypatch, [two(verdict(ERRORS, DATA), verdict(REQUESTS, EMPTY, FEW))]
    )
    assert replays > 1
    # The deadline is no finding: the replay, and the panel whose verdict was not final
    # (too few samples may still fill), are undecided, with the last verdict as evidence.
    assert not replay.ok and replay.failure.startswith(
        "undecided after 1 s: every panel of 'Two' has data was not reached"
    )
    assert replay.deadline is not None and replay.undecided == {REQUESTS.path}
    assert replay.panel_failure(ERRORS) == ""
    mine = replay.panel_failure(REQUESTS)
    first, second, *rest = mine.splitlines()
    assert first.startswith("undecided after 1 s: every panel of 'Two' has data was not reached")
    assert first.endswith("; panel #2 Requests's last verdict:")
    assert second == f"panel 2 Requests: empty: A: no series; {FEW.render()}"
    assert rest[0] == "query A: requests" and "Errors" not in mine


def test_every_panel_with_data_ends_the_wait_with_no_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    replay, replays = settle(monkeypatch, [two(verdict(ERRORS, DATA), verdict(REQUESTS, DATA))])
    assert replays == 1 and replay.ok and replay.failure == ""
    assert replay.panel_failure(ERRORS) == replay.panel_failure(REQUESTS) == ""


def test_the_dashboard_artifact_keeps_every_panel_and_masks_secrets(tmp_path: Path) -> None:
    masker = Masker()
    masker.add("sk-secret-0123456789")
    errors = verdict(ERRORS, EMPTY, NEVER)
    errors.targets[0].query = 'errors_total{key="sk-secret-0123456789"}'
    settings = SimpleNamespace(artifacts_dir=tmp_path, run_id="run-1")
    pipeline = cast(Pipeline, SimpleNamespace(settings=settings, masker=masker))
    path = write_dashboard_artifact(pipeline, two(errors, verdict(REQUESTS, DATA)))
    assert path == tmp_path / "run-1" / "dashboard-Two.json"  # no uid: the title
    text = path.read_text()
    assert "sk-secret-0123456789" not in text
    record = json.loads(text)
    assert [p["title"] for p in record["panels"]] == ["Errors", "Requests"]
    assert record["panels"][0]["reasons"] == [NEVER.render()]
