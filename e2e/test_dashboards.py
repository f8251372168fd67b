"""Dashboard panels: every panel of "Scanium - OpenAI Runtime" (or of every dashboard
`--scanium-dashboards PATH...` names, files or folders) shows data after traffic.

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
from dataclasses import dataclass
from pathlib import Path

import pytest

from scanium_e2e.checks.dashboards import DashboardReplay, settle_dashboard
from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.dashboards import ALLOWED_EMPTY, Panel, dashboard_files, load_dashboard
from scanium_e2e.dashboards.scope import outside_reason, panel_metrics
from scanium_e2e.errors import CheckFailed, ScaniumE2EError
from scanium_e2e.findings import Finding
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.promql import PromQLSyntaxError, analyse
from scanium_e2e.session.artifacts import write_dashboard_artifact
from scanium_e2e.settings import REPO_ROOT
from scanium_e2e.suite_plugin import record_outside, record_section, settings_of
from scanium_e2e.traffic.run import TrafficRun
from scanium_e2e.verdict.otlp_diagnose import otlp_state, road_cause

DASHBOARD = REPO_ROOT / "fixtures" / "grafana" / "dashboards" / "openai-runtime.json"
PANELS = [panel for panel in load_dashboard(DASHBOARD).panels if panel.targets]


@dataclass(frozen=True)
class PanelCase:
    """One panel of one dashboard file: one test id."""

    path: Path
    panel: Panel


def panel_cases(paths: list[Path]) -> tuple[list[PanelCase], list[str], list[str]]:
    """Every panel this stack can check of every dashboard in `paths`, and its test id:
    `<id>-<title>` for one dashboard (the ids the deviation proofs name), prefixed with the
    dashboard's uid when there are several; and a line for each panel it cannot check (a
    text panel, a Loki or Tempo panel: not part of this stack, never a passing test)."""
    cases: list[PanelCase] = []
    ids: list[str] = []
    outside: list[str] = []
    for path in paths:
        dashboard = load_dashboard(path)
        for panel in dashboard.panels:
            reason = outside_reason(dashboard, panel)
            if reason:
                outside.append(f"{dashboard.title!r} {panel.key}: {reason}")
                continue
            cases.append(PanelCase(path, panel))
            prefix = f"{dashboard.uid or path.stem}/" if len(paths) > 1 else ""
            ids.append(f"{prefix}{panel.id}-{panel.title}")
    return cases, ids, outside


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize over the panels of the run's dashboards.

    Bad settings or a malformed dashboard leave the fixture dashboard here: the session's
    `settings` fixture then ends the run with the error and exit 4, before any test.
    """
    if "case" not in metafunc.fixturenames:
        return
    try:
        chosen = settings_of(metafunc.config).dashboards
        cases, ids, outside = panel_cases(dashboard_files(chosen) if chosen else [DASHBOARD])
    except ScaniumE2EError:
        cases, ids, outside = panel_cases([DASHBOARD])
    record_outside(metafunc.config, outside)
    metafunc.parametrize("case", cases, ids=ids)


@pytest.fixture(scope="module")
def replays(
    pipeline: Pipeline,
    sent_traffic: TrafficRun,
    request: pytest.FixtureRequest,
    pytestconfig: pytest.Config,
) -> Callable[[Path], DashboardReplay]:
    """Each dashboard replayed once, in one wait, when its first panel's test asks; on
    failure its whole table goes to the summary, once, and every panel's verdict with its
    full queries to the artifacts.

    The replay is final once the counts are settled: the scraped ones, or, when no scrape
    held the traffic (the pipeline is cut at the scrape), the OTLP road's, so that panels
    over what the backend pushes are still judged on their own.
    """
    done: dict[Path, DashboardReplay] = {}
    cut = sent_traffic.gate_failure is not None
    settled = "otlp_settlement" if cut else "settlement"

    def replayed(path: Path) -> DashboardReplay:
        if path in done:
            return done[path]
        settlement: CountSettlement = request.getfixturevalue(settled)
        # With the scrape cut, only the panels over the OTLP road are replayed.
        only = (lambda panel: over_otlp_only(pipeline, panel)) if cut else None
        replay = settle_dashboard(pipeline, path, settlement, only)
        if replay.failure:
            text = replay.failure
            if replay.result is not None:
                artifact = write_dashboard_artifact(pipeline, replay.result)
                text += f"\nevery panel's verdict and full queries: {artifact}"
            record_section(pytestconfig, f"dashboard replay: {replay.dashboard.title}", text)
        done[path] = replay
        return replay

    return replayed


def unplanned_metrics(pipeline: Pipeline, traffic: TrafficRun) -> set[str]:
    """Metrics the plan gave no reason to exist: the error counter when no fault was sent."""
    if traffic.ledger.count("provider_error"):
        return set()
    return {pipeline.contract.errors.name}


def over_otlp_only(pipeline: Pipeline, panel: Panel) -> bool:
    """Whether every query of the panel reads the OTLP road's series alone (read from the
    dashboard JSON: a panel that cannot be read so counts as scraped)."""
    names = panel_metrics(panel)
    return names is not None and bool(names) and names <= pipeline.otlp_series_names


@pytest.fixture(scope="module")
def otlp_cause(pipeline: Pipeline, sent_traffic: TrafficRun) -> Callable[[], Finding | None]:
    """The OTLP road's broken hop before the query (None: none is, or no road), read once
    when a panel over the road first needs it."""
    found: list[Finding | None] = []

    def cause() -> Finding | None:
        if not found:
            if pipeline.contract.otlp is None:
                found.append(None)
            else:
                state = otlp_state(pipeline)
                found.append(road_cause(pipeline, state, sent_traffic.ledger.finished_at))
        return found[0]

    return cause


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


def test_panel_has_data(
    replays: Callable[[Path], DashboardReplay],
    case: PanelCase,
    pipeline: Pipeline,
    sent_traffic: TrafficRun,
    otlp_cause: Callable[[], Finding | None],
    waive: Callable[[str], None],
) -> None:
    """The panel's queries, variables expanded, return data over the run's window."""
    panel = case.panel
    pushed = over_otlp_only(pipeline, panel)
    if sent_traffic.gate_failure is not None and not pushed:
        # No scrape held the traffic: a panel over scraped metrics fails with that cause.
        raise sent_traffic.gate_failure
    replayed = replays(case.path)
    traffic = sent_traffic
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
        if replayed.deadline is not None and replayed.is_undecided(panel):
            # The replay reached its deadline with this panel's verdict not final: undecided.
            raise CheckFailed(failure, (replayed.deadline, *findings))
        cause = otlp_cause() if pushed else None
        if cause is not None:
            # A panel over what the backend pushes, empty because the OTLP road is broken
            # before the store: that hop is its cause.
            raise CheckFailed(f"{cause.render()}\n{failure}", (cause, *findings))
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
