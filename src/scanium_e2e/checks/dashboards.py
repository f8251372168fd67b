"""Dashboard panels return data for this run's traffic: the check people see as "No data".

Every panel of a dashboard is replayed against Mimir over the traffic's window (from just
before the first request to now), polling until every panel shows data or the deadline
passes; the failure lists each empty panel with the reason (pint-style) and its query.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from scanium_e2e.checks.waits import poll_check
from scanium_e2e.clients.query import utc_now
from scanium_e2e.dashboards import DashboardResult, check_dashboard, format_report, load_dashboard
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.polling import HardError
from scanium_e2e.traffic.run import TrafficRun
from scanium_e2e.verdict.findings import Kind

# Rates need a sample before the traffic: start the window a little earlier.
WINDOW_LEAD = timedelta(minutes=2)


def replay_dashboard(pipeline: Pipeline, path: Path, run: TrafficRun) -> DashboardResult:
    """Poll until every panel of the dashboard at `path` has data; return the last result.

    Raises CheckFailed (with the per-panel table) when panels stay empty or error.
    """
    dashboard = load_dashboard(path)
    start = datetime.fromtimestamp(run.ledger.started_at, UTC) - WINDOW_LEAD

    def probe() -> DashboardResult:
        result = replay()
        # The traffic's first wave created every series it ever will: a metric Mimir has
        # never seen will not appear by waiting.
        for panel in result.failed:
            if any(finding.kind == Kind.METRIC_NEVER_SEEN for finding in panel.findings):
                raise HardError(f"panel {panel.title!r} is empty\n{format_report(result)}")
        return result

    def replay() -> DashboardResult:
        return check_dashboard(
            pipeline.store,
            dashboard,
            start,
            utc_now(),
            scrape_interval_s=pipeline.settings.scrape_interval_s,
            allow_empty=dict(pipeline.contract.allow_empty_panels),
        )

    def describe(result: DashboardResult) -> str:
        return f"{len(result.failed)} failing panel(s)\n{format_report(result)}"

    return poll_check(
        pipeline,
        probe,
        lambda result: result.ok,
        what=f"every panel of {dashboard.title!r} has data",
        describe=describe,
    ).value  # type: ignore[return-value]
