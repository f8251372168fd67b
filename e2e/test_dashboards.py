"""Dashboard panels: every panel of "Scanium - OpenAI Runtime" shows data after traffic.

One test id per panel (one per instance of a repeated panel is in the report), so a
failure reads like the dashboard a person would open: which panel says "No data", why,
and the query that was replayed.
"""

from __future__ import annotations

import pytest

from scanium_e2e.checks.dashboards import replay_dashboard
from scanium_e2e.dashboards import DashboardResult, Panel, load_dashboard
from scanium_e2e.errors import CheckFailed
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.settings import REPO_ROOT
from scanium_e2e.traffic.run import TrafficRun

DASHBOARD = REPO_ROOT / "fixtures" / "grafana" / "dashboards" / "openai-runtime.json"
PANELS = [panel for panel in load_dashboard(DASHBOARD).panels if panel.targets]


@pytest.fixture(scope="module")
def replayed(pipeline: Pipeline, traffic: TrafficRun) -> DashboardResult | CheckFailed:
    """The dashboard replayed once every panel has data (or the failure, shared by all)."""
    try:
        return replay_dashboard(pipeline, DASHBOARD, traffic)
    except CheckFailed as exc:
        return exc


@pytest.mark.parametrize("panel", PANELS, ids=[f"{p.id}-{p.title}" for p in PANELS])
def test_panel_has_data(replayed: DashboardResult | CheckFailed, panel: Panel) -> None:
    """The panel's queries, variables expanded, return data over the run's window."""
    title = panel.title
    if isinstance(replayed, CheckFailed):
        message = str(replayed)
        # Show this panel's row of the report first, then everything.
        mine = [line for line in message.splitlines() if title and title in line]
        raise CheckFailed("\n".join([*mine, "", message]))
    results = replayed.for_panel(title)
    assert results, f"panel {title!r} was not replayed"
    for result in results:
        assert not result.failed, (
            f"{result.title}: {result.status}: {result.detail} {result.reasons}"
        )


def test_fixture_dashboard_has_the_seed_panels() -> None:
    """The dashboard carries the panels the seed lists, so "every panel" means them."""
    titles = {panel.title for panel in PANELS}
    wanted = {
        "Request Rate",
        "p95 Latency",
        "Request Rate by Model",
        "Tokens/Min",
        "Token Breakdown by type",
        "Error Rate",
        "Latency Percentiles",
    }
    assert wanted <= titles, wanted - titles
