"""Dashboard panels: every panel of "Scanium - OpenAI Runtime" shows data after traffic.

One test id per panel (one per instance of a repeated panel is in the report), so a
failure reads like the dashboard a person would open: which panel says "No data", why,
and the query that was replayed. The dashboard is replayed once for all panels; each
panel's test fails only for its own panel, and the whole table is printed once, in the
terminal summary. A panel the contract's `dashboards.allow_empty` lists, found empty, is
waived on purpose (xfail "accepted by contract: ..." with the contract's reason), never
passed silently: e.g. the error panels of a backend with `failures.error_counter=false`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from scanium_e2e.checks.dashboards import DashboardReplay, settle_dashboard
from scanium_e2e.dashboards import ALLOWED_EMPTY, Panel, load_dashboard
from scanium_e2e.errors import CheckFailed
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.promql import PromQLSyntaxError, analyse
from scanium_e2e.pytest_plugin import record_section
from scanium_e2e.settings import REPO_ROOT
from scanium_e2e.traffic.run import TrafficRun
from scanium_e2e.verdict.artifacts import write_dashboard_artifact

DASHBOARD = REPO_ROOT / "fixtures" / "grafana" / "dashboards" / "openai-runtime.json"
PANELS = [panel for panel in load_dashboard(DASHBOARD).panels if panel.targets]


@pytest.fixture(scope="module")
def replayed(
    pipeline: Pipeline, traffic: TrafficRun, pytestconfig: pytest.Config
) -> DashboardReplay:
    """The dashboard replayed in one wait; on failure its whole table goes to the summary,
    once, and every panel's verdict with its full queries to the artifacts."""
    replay = settle_dashboard(pipeline, DASHBOARD, traffic)
    if replay.failure:
        text = replay.failure
        if replay.result is not None:
            path = write_dashboard_artifact(pipeline, replay.result)
            text += f"\nevery panel's verdict and full queries: {path}"
        record_section(pytestconfig, f"dashboard replay: {replay.dashboard.title}", text)
    return replay


def unplanned_metrics(pipeline: Pipeline, traffic: TrafficRun) -> set[str]:
    """Metrics the plan gave no reason to exist: the error counter when no fault was sent."""
    if traffic.ledger.count("provider_error"):
        return set()
    return {pipeline.contract.errors.name}


def metrics_of(replayed: DashboardReplay, panel: Panel) -> set[str]:
    """The metric names the panel's replayed (expanded) queries select."""
    names: set[str] = set()
    for verdict in replayed.for_panel(panel):
        for target in verdict.targets:
            try:
                names |= {s.name for s in analyse(target.query).selectors if s.name}
            except PromQLSyntaxError:
                continue
    return names


@pytest.mark.parametrize("panel", PANELS, ids=[f"{p.id}-{p.title}" for p in PANELS])
def test_panel_has_data(
    replayed: DashboardReplay,
    panel: Panel,
    pipeline: Pipeline,
    traffic: TrafficRun,
    waive: Callable[[str], None],
) -> None:
    """The panel's queries, variables expanded, return data over the run's window."""
    failure = replayed.panel_failure(panel)
    if failure:
        # A plan with zero faults expects zero of them: a panel over the error counter has
        # nothing to show, which is said (xfail) rather than counted as a failure.
        unplanned = metrics_of(replayed, panel) & unplanned_metrics(pipeline, traffic)
        if unplanned:
            pytest.xfail(
                f"the plan sent no LLM fault, so panel {panel.key} over "
                f"{', '.join(sorted(unplanned))} has nothing to show"
            )
        findings = tuple(f for verdict in replayed.for_panel(panel) for f in verdict.findings)
        raise CheckFailed(failure, findings)
    allowed = [v for v in replayed.for_panel(panel) if v.status == ALLOWED_EMPTY]
    if allowed:
        waive(
            f"panel {panel.key} is empty, allowed by {pipeline.contract.source} "
            f"(dashboards.allow_empty): {allowed[0].detail}"
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
