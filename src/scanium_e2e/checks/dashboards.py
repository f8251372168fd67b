"""Dashboard panels return data for this run's traffic: the check people see as "No data".

Every panel of a dashboard is replayed against Mimir over the traffic's window (from just
before the first request to now) in one wait, polled until every panel shows data, until
every panel still failing has a finding that waiting will not cure (a metric never seen),
or until the deadline. The verdict is kept per panel, so each panel's test fails with its
own status, reasons and query, and the whole table is shown once.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.checks.waits import poll_check
from scanium_e2e.clients.query import utc_now
from scanium_e2e.dashboards import (
    DATA,
    MISGROUPED,
    SKIPPED,
    Dashboard,
    DashboardResult,
    Panel,
    PanelResult,
    check_dashboard,
    format_panel,
    format_report,
    load_dashboard,
)
from scanium_e2e.dashboards.scope import FINAL_AFTER_TRAFFIC
from scanium_e2e.errors import CheckFailed
from scanium_e2e.findings import Finding, Kind
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.polling import HardError
from scanium_e2e.progress import is_main, phase

# Rates need a sample before the traffic: start the window a little earlier.
WINDOW_LEAD = timedelta(minutes=2)
# Findings that waiting will not cure: the traffic's first wave created every series it
# ever will, so a metric the store has never seen will not appear by waiting.
SETTLED_KINDS = frozenset({Kind.METRIC_NEVER_SEEN})


def settled_empty(panel: PanelResult, *, traffic_final: bool = False) -> bool:
    """True when a failing panel has a finding that no amount of waiting will change.

    A misgrouped panel is settled too: its series are there, and none carries the label.
    Once the traffic is final (its count checks settled), so is a panel whose query names
    a label or a label value the store never saw (dashboards.scope.FINAL_AFTER_TRAFFIC).
    """
    if panel.status == MISGROUPED:
        return True
    kinds = FINAL_AFTER_TRAFFIC if traffic_final else SETTLED_KINDS
    return any(finding.kind in kinds for finding in panel.findings)


@dataclass(repr=False)
class DashboardReplay:
    """A dashboard replayed until it settled: the last verdicts, and the failure if any."""

    dashboard: Dashboard
    result: DashboardResult | None
    failure: str = ""
    attempts: int = 0
    elapsed_s: float = 0.0
    # When the replay reached its deadline: its `undecided` finding, and the panels whose
    # last verdict was still not final then (each is undecided, never a finding).
    deadline: Finding | None = None
    # (by their path in the dashboard JSON: a panel holds dicts, so it is not hashable).
    undecided: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        """True when every panel has data, is allowed empty, or was skipped."""
        return not self.failure

    def __repr__(self) -> str:
        # pytest shows a test's arguments on failure: one line, not the whole table.
        if self.result is None:
            state = "not replayed"
        else:
            state = f"{len(self.result.failed)} of {len(self.result.panels)} panels failing"
        return (
            f"DashboardReplay({self.dashboard.title!r}: {state}, "
            f"{self.attempts} replay(s) in {self.elapsed_s:.1f}s)"
        )

    def progress_line(self) -> str:
        """`dashboard 'X' replayed 2 time(s) in 1.3 s: 7 of 7 panels with data`."""
        head = f"dashboard {self.dashboard.title!r} replayed {self.attempts} time(s) in "
        if self.result is None:
            return head + f"{self.elapsed_s:.1f} s: no replay answered"
        panels = [p for p in self.result.panels if p.status != SKIPPED]
        with_data = sum(1 for p in panels if p.status == DATA)
        return head + f"{self.elapsed_s:.1f} s: {with_data} of {len(panels)} panels with data"

    def for_panel(self, panel: Panel) -> list[PanelResult]:
        """The verdicts on `panel` (one per instance of a repeated panel)."""
        if self.result is None:
            return []
        return [verdict for verdict in self.result.panels if verdict.panel == panel]

    def is_undecided(self, panel: Panel) -> bool:
        """Whether the replay reached its deadline with `panel`'s verdict not final."""
        return self.deadline is not None and panel.path in self.undecided

    def panel_failure(self, panel: Panel) -> str:
        """Why `panel` fails, about this panel alone; "" when it passed.

        Other panels' rows are not repeated here: the whole table is `failure`.
        """
        verdicts = self.for_panel(panel)
        if not verdicts:
            if self.ok:
                return f"panel {panel.key} was not replayed"
            headline = self.failure.splitlines()[0] if self.failure else "no replay answered"
            return f"panel {panel.key} was not replayed: {headline}"
        failing = [_own_failure(verdict) for verdict in verdicts if verdict.failed]
        if not failing:
            return ""
        if self.deadline is not None and self.is_undecided(panel):
            failing[0] = (
                f"{self.deadline.render()}; panel {panel.key}'s last verdict:\n{failing[0]}"
            )
        waited = (
            f"(the dashboard was replayed {self.attempts} time(s) over {self.elapsed_s:.1f}s; "
            f"the whole table of {self.dashboard.title!r} is printed once, in the summary)"
        )
        return "\n".join([*failing, waited])


def _own_failure(verdict: PanelResult) -> str:
    """`format_panel`, its first line also naming the first finding (the metric never
    seen...), so the one-line summary of a panel's failure says why."""
    text = format_panel(verdict)
    if not verdict.findings:
        return text
    first, *rest = text.splitlines()
    why = verdict.findings[0].render()
    rest = [line for line in rest if line != f"why: {why}"]
    return "\n".join([f"{first}; {why}", *rest])


def settle_dashboard(
    pipeline: Pipeline,
    path: Path,
    settlement: CountSettlement,
    only: Callable[[Panel], bool] | None = None,
) -> DashboardReplay:
    """Replay the dashboard at `path` in one wait and keep every panel's last verdict.

    The wait ends when every panel has data, when each panel still failing has a settled
    finding (`SETTLED_KINDS`; once the count checks settled, `FINAL_AFTER_TRAFFIC`), or at
    the deadline; `failure` is then the whole table with
    the hop-by-hop diagnosis. Never raises CheckFailed: each panel's test decides alone.
    `only` keeps the panels it accepts (the others are not replayed).
    """
    dashboard = load_dashboard(path)
    if only is not None:
        dashboard = dataclasses.replace(
            dashboard, panels=tuple(panel for panel in dashboard.panels if only(panel))
        )
    # The count checks settled: the store holds the scrape after the last request, so
    # every series the traffic creates exists (a label or value never seen is final).
    final = bool(settlement.verdicts())
    run = settlement.run
    start = datetime.fromtimestamp(run.ledger.started_at, UTC) - WINDOW_LEAD
    replays: list[DashboardResult] = []
    started = time.monotonic()

    def probe() -> DashboardResult:
        result = check_dashboard(
            pipeline.store,
            dashboard,
            start,
            utc_now(),
            scrape_interval_s=pipeline.settings.scrape_interval_s,
            allow_empty=dict(pipeline.contract.allow_empty_panels),
            variables=dict(pipeline.settings.dashboard_vars),
        )
        replays.append(result)
        failed = result.failed
        if failed and all(settled_empty(panel, traffic_final=final) for panel in failed):
            names = ", ".join(repr(panel.title) for panel in failed)
            which = f"panel {names} is" if len(failed) == 1 else f"panels {names} are"
            raise HardError(f"{which} empty, and waiting will not fill it\n{format_report(result)}")
        return result

    def describe(result: DashboardResult) -> str:
        return f"{len(result.failed)} failing panel(s)\n{format_report(result)}"

    failure = ""
    deadline: Finding | None = None
    try:
        poll_check(
            pipeline,
            probe,
            lambda result: result.ok,
            what=f"every panel of {dashboard.title!r} has data",
            describe=describe,
        )
    except CheckFailed as exc:
        failure = str(exc)
        deadline = next(
            (f for f in exc.findings if isinstance(f, Finding) and f.kind == Kind.UNDECIDED),
            None,
        )
    last = replays[-1] if replays else None
    unsettled = frozenset(
        verdict.panel.path
        for verdict in (last.failed if last is not None and deadline is not None else [])
        if not settled_empty(verdict, traffic_final=final)
    )
    replay = DashboardReplay(
        dashboard,
        last,
        failure,
        attempts=len(replays),
        elapsed_s=time.monotonic() - started,
        deadline=deadline,
        undecided=unsettled,
    )
    phase(replay.progress_line(), main=is_main(pipeline))
    return replay


def replay_dashboard(
    pipeline: Pipeline, path: Path, settlement: CountSettlement
) -> DashboardResult:
    """Poll until every panel of the dashboard at `path` has data; return the last result.

    Raises CheckFailed (with the per-panel table) when panels stay empty or error: for
    callers that need one verdict on the whole dashboard (the mutation harness).
    """
    replay = settle_dashboard(pipeline, path, settlement)
    if replay.failure or replay.result is None:
        raise CheckFailed(replay.failure or f"{replay.dashboard.title!r} was not replayed")
    return replay.result
