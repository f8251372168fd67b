"""replay_dashboard: which findings end the wait for a dashboard at once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from dashboard_fixtures import END, START

from scanium_e2e.checks import dashboards as dashboard_checks
from scanium_e2e.checks import waits
from scanium_e2e.dashboards import EMPTY, DashboardResult, PanelResult, parse_dashboard
from scanium_e2e.dashboards.variables import ResolvedVariables
from scanium_e2e.errors import CheckFailed
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.traffic.run import TrafficRun
from scanium_e2e.verdict.findings import Finding, Kind

DASHBOARD = parse_dashboard(
    {"title": "D", "panels": [{"id": 1, "title": "Requests", "type": "stat"}]}, source="d.json"
)


def result_with(finding: Finding) -> DashboardResult:
    panel = PanelResult(DASHBOARD.panels[0], "Requests", EMPTY, "A: no series")
    panel.findings.append(finding)
    result = DashboardResult(DASHBOARD, START, END, 15.0, ResolvedVariables())
    result.panels.append(panel)
    return result


def replay(monkeypatch: pytest.MonkeyPatch, result: DashboardResult) -> tuple[str, int]:
    """Replay against a canned result; the failure message and how many replays it took."""
    calls: list[int] = []

    def canned(*args: Any, **kwargs: Any) -> DashboardResult:
        calls.append(1)
        return result

    monkeypatch.setattr(dashboard_checks, "load_dashboard", lambda path: DASHBOARD)
    monkeypatch.setattr(dashboard_checks, "check_dashboard", canned)
    monkeypatch.setattr(
        waits, "fail_with_diagnosis", lambda pipeline, headline, **kw: CheckFailed(headline)
    )
    settings = SimpleNamespace(scrape_interval_s=15.0, data_timeout_s=0.6, poll_interval_s=0.1)
    pipeline = cast(
        Pipeline,
        SimpleNamespace(
            settings=settings, contract=SimpleNamespace(allow_empty_panels=()), store=None
        ),
    )
    ledger = SimpleNamespace(started_at=datetime(2026, 11, 26, 10, tzinfo=UTC).timestamp())
    run = TrafficRun(ledger=cast(Any, ledger), baseline={})
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
    assert "every panel of 'D' has data" in message
