"""Replay every panel query of a dashboard against Mimir and say which panels have data.

For each panel (repeats expanded per variable value), each visible Prometheus target is
interpolated as Grafana would and run as a range query over the window. A panel has
`data` when some series has a real point, is `empty` otherwise (with pint-style reasons),
or `error` when Mimir rejects a query (with Mimir's message). Empty panels that depend on
traffic the run did not generate can be allowed (`allowed-empty: <reason>`); panels
without PromQL (text, library panels, other data sources) are `skipped` with a reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from scanium_e2e.clients.query import QueryError
from scanium_e2e.dashboards.datasources import MIXED, UNKNOWN, resolve_datasource
from scanium_e2e.dashboards.interpolation import VariableValue, interpolate
from scanium_e2e.dashboards.intervals import macros, query_timing
from scanium_e2e.dashboards.model import Dashboard, Panel, Target
from scanium_e2e.dashboards.variables import ResolvedVariables, resolve_variables
from scanium_e2e.errors import ConfigurationError
from scanium_e2e.findings import Finding, Kind, distinct
from scanium_e2e.verdict.empty_query import QueryClient, explain_empty, grouping_findings

DATA = "data"
EMPTY = "empty"
ERROR = "error"
ALLOWED_EMPTY = "allowed-empty"
SKIPPED = "skipped"
# Data, but grouped by a label its series lack: the breakdown the panel promises is not there.
MISGROUPED = "misgrouped"
FAILING = frozenset({EMPTY, ERROR, MISGROUPED})


@dataclass
class TargetResult:
    """One target of one panel instance: the query sent and what came back."""

    ref_id: str
    expr: str
    query: str
    status: str
    series: int = 0
    detail: str = ""
    findings: list[Finding] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        """Why the target is empty, as the report says it."""
        return [finding.render() for finding in self.findings]


@dataclass
class PanelResult:
    """The verdict on one panel (one instance of a repeated panel)."""

    panel: Panel
    title: str
    status: str
    detail: str
    repeat_value: str = ""
    targets: list[TargetResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        """Why the panel is empty, as the report says it."""
        return [finding.render() for finding in self.findings]

    @property
    def label(self) -> str:
        """The id as the report shows it: `7`, or `7[openai]` for a repeat."""
        base = str(self.panel.id) if self.panel.id is not None else "-"
        return f"{base}[{self.repeat_value}]" if self.repeat_value else base

    @property
    def failed(self) -> bool:
        """True when the panel is empty (and not allowed to be) or errors."""
        return self.status in FAILING

    @property
    def queries(self) -> list[str]:
        """The expanded queries that were replayed."""
        return [t.query for t in self.targets if t.query]


@dataclass
class DashboardResult:
    """Every panel verdict of one dashboard, with the variables and window used."""

    dashboard: Dashboard
    start: datetime
    end: datetime
    scrape_interval_s: float
    variables: ResolvedVariables
    panels: list[PanelResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    allowances_used: set[str] = field(default_factory=set)

    @property
    def failed(self) -> list[PanelResult]:
        """Panels that are empty (not allowed) or error."""
        return [p for p in self.panels if p.failed]

    @property
    def ok(self) -> bool:
        """True when every panel has data, is allowed empty, or was skipped."""
        return not self.failed

    @property
    def checked(self) -> bool:
        """True when at least one panel was replayed: a dashboard whose every panel was
        skipped (text, Loki, Tempo) checked nothing, which is no pass."""
        return any(panel.status != SKIPPED for panel in self.panels)

    def for_panel(self, key: str | int) -> list[PanelResult]:
        """The results of the panel with this id or title (several for a repeat)."""
        return [
            p for p in self.panels if str(p.panel.id) == str(key) or key in (p.panel.title, p.title)
        ]


def check_dashboard(
    client: QueryClient,
    dashboard: Dashboard,
    start: datetime,
    end: datetime,
    *,
    scrape_interval_s: float = 15.0,
    allow_empty: Mapping[str, str] | None = None,
    variables: Mapping[str, Sequence[str]] | None = None,
    datasources: Mapping[str, str] | None = None,
    explain: bool = True,
) -> DashboardResult:
    """Replay every panel of `dashboard` over [start, end] and return the verdicts.

    `scrape_interval_s` is the data source's scrape interval (it drives $__interval's
    floor and $__rate_interval); `allow_empty` maps panel titles or ids to the reason an
    empty panel is acceptable; `variables` pins template variables (`{"provider":
    ["openai"]}`); `datasources` maps data source names/uids to plugin types. Raises
    TransientError when Mimir is unreachable (so a poll can wait for it).
    """
    if end <= start:
        raise ConfigurationError(f"the check window must end after it starts ({start} .. {end}).")
    resolved = resolve_variables(client, dashboard, start, end, overrides=variables)
    result = DashboardResult(dashboard, start, end, scrape_interval_s, resolved)
    result.notes.extend(resolved.notes)
    replayer = _Replayer(client, result, datasources or {}, explain)
    allowed = dict(allow_empty or {})
    for panel, scoped, repeat_value, missing in _instances(dashboard, resolved.values, result):
        title = interpolate(panel.title, {**resolved.values, **scoped}).text
        if missing:
            verdict = PanelResult(
                panel, title, EMPTY, f"repeats over ${missing}, which has no values"
            )
        else:
            verdict = replayer.panel(panel, title, scoped, repeat_value)
        if verdict.status == EMPTY:
            key = next((k for k in (str(panel.id), panel.title, title) if k in allowed), None)
            if key is not None:
                result.allowances_used.add(key)
                verdict.status = ALLOWED_EMPTY
                verdict.detail = allowed[key]
        result.panels.append(verdict)
    return result


def unused_allowances(
    results: Sequence[DashboardResult], allow_empty: Mapping[str, str]
) -> list[str]:
    """Allow-list keys that matched no panel in any of `results` (typos, renamed panels)."""
    used = set().union(*(r.allowances_used for r in results)) if results else set()
    return [key for key in allow_empty if key not in used]


def _instances(
    dashboard: Dashboard, values: Mapping[str, VariableValue], result: DashboardResult
) -> Iterator[tuple[Panel, dict[str, VariableValue], str, str]]:
    """Each panel once per value of its row's and its own repeat variable."""
    for panel in dashboard.panels:
        scopes: list[tuple[dict[str, VariableValue], str]] = [({}, "")]
        missing = ""
        for name in (panel.row_repeat, panel.repeat):
            if not name:
                continue
            value = values.get(name)
            if value is None:
                result.notes.append(
                    f"panel {panel.key} repeats over ${name}, which is not a template variable"
                )
                continue
            if not value.values:
                missing = name
                break
            texts = value.texts or value.values
            scopes = [
                ({**scoped, name: value.bound_to(v, t)}, f"{label},{v}" if label else v)
                for scoped, label in scopes
                for v, t in zip(value.values, texts, strict=False)
            ]
        if missing:
            yield panel, {}, "", missing
            continue
        for scoped, label in scopes:
            yield panel, scoped, label, ""


class _Replayer:
    def __init__(
        self,
        client: QueryClient,
        result: DashboardResult,
        datasources: Mapping[str, str],
        explain: bool,
    ) -> None:
        self.client = client
        self.result = result
        self.datasources = datasources
        self.explain = explain

    def panel(
        self, panel: Panel, title: str, scoped: dict[str, VariableValue], repeat_value: str
    ) -> PanelResult:
        verdict = PanelResult(panel, title, SKIPPED, "", repeat_value)
        if panel.library_panel:
            verdict.detail = (
                f"library panel {panel.library_panel}: its queries live in Grafana's library, "
                "not in this JSON (export with 'share externally' to include them)"
            )
            return verdict
        if not panel.targets:
            verdict.detail = f"{panel.type or 'untyped'} panel without queries"
            return verdict
        values = {**self.result.variables.values, **scoped}
        panel_source = resolve_datasource(
            panel.datasource, self.result.dashboard, values, self.datasources
        )
        skipped: list[str] = []
        for target in panel.targets:
            outcome = self.target(panel, panel_source.type, target, values)
            if outcome.status == SKIPPED:
                skipped.append(f"{target.ref_id or '?'}: {outcome.detail}")
            verdict.targets.append(outcome)
        return _summarise(verdict, skipped)

    def target(
        self, panel: Panel, panel_type: str, target: Target, values: dict[str, VariableValue]
    ) -> TargetResult:
        outcome = TargetResult(target.ref_id, target.expr, "", SKIPPED)
        if target.hidden:
            outcome.detail = "hidden"
            return outcome
        ref = panel.datasource
        if target.datasource is not None and (panel_type == MIXED or panel.datasource is None):
            ref = target.datasource
        source = resolve_datasource(ref, self.result.dashboard, values, self.datasources)
        if source.type == MIXED:
            source = resolve_datasource(None, self.result.dashboard, values)
        if not source.is_prometheus and not (source.type == UNKNOWN and target.expr.strip()):
            outcome.detail = f"{source.type} data source {source.name}"
            return outcome
        if not target.expr.strip():
            outcome.detail = "no expr"
            return outcome
        return self.replay(panel, target, values, outcome)

    def replay(
        self,
        panel: Panel,
        target: Target,
        values: dict[str, VariableValue],
        outcome: TargetResult,
    ) -> TargetResult:
        start, end = self.result.start, self.result.end
        timing = query_timing(
            start,
            end,
            scrape_interval_s=self.result.scrape_interval_s,
            panel_min_interval=interpolate(panel.min_interval, values).text,
            target_min_step=interpolate(target.min_step, values).text,
            max_data_points=panel.max_data_points,
        )
        expanded = interpolate(target.expr, values, macros(start, end, timing))
        outcome.query = expanded.text
        unknown = ", ".join(f"${name}" for name in expanded.unknown)
        try:
            series = self.client.range(expanded.text, start, end, timing.step_s)
        except QueryError as exc:
            outcome.status = ERROR
            outcome.detail = exc.reason
            if unknown:
                outcome.detail += f" (unknown variable {unknown})"
            return outcome
        with_data = [s for s in series if s.has_data]
        if with_data:
            outcome.status, outcome.series = DATA, len(with_data)
            misgrouped = grouping_findings(self.client, expanded.text, start, end)
            if misgrouped:
                outcome.status = MISGROUPED
                outcome.detail = f"{len(with_data)} series, grouped by a label they lack"
                outcome.findings.extend(misgrouped)
            return outcome
        outcome.status = EMPTY
        if series:
            outcome.detail = f"{len(series)} series, every value NaN"
            outcome.findings.append(
                Finding(Kind.ALL_NAN, subject=expanded.text, seen=f"{len(series)} series")
            )
            return outcome
        outcome.detail = "no series"
        if unknown:
            outcome.findings.append(
                Finding(Kind.UNKNOWN_VARIABLE, subject=expanded.text, seen=unknown)
            )
        if self.explain:
            outcome.findings.extend(
                explain_empty(self.client, expanded.text, start, end, step_s=timing.step_s)
            )
        return outcome


def _summarise(verdict: PanelResult, skipped: list[str]) -> PanelResult:
    replayed = [t for t in verdict.targets if t.status != SKIPPED]
    errors = [t for t in replayed if t.status == ERROR]
    with_data = [t for t in replayed if t.status == DATA]
    empty = [t for t in replayed if t.status == EMPTY]
    misgrouped = [t for t in replayed if t.status == MISGROUPED]
    if not replayed:
        verdict.status, verdict.detail = SKIPPED, "; ".join(skipped) or "no queries"
    elif errors:
        verdict.status = ERROR
        verdict.detail = "; ".join(f"{t.ref_id or '?'}: {t.detail}" for t in errors)
    elif misgrouped:
        verdict.status = MISGROUPED
        verdict.detail = "; ".join(f"{t.ref_id or '?'}: {t.detail}" for t in misgrouped)
        verdict.findings = distinct(f for outcome in misgrouped for f in outcome.findings)
    elif with_data:
        verdict.status = DATA
        verdict.detail = f"{sum(t.series for t in with_data)} series"
        if empty:
            verdict.detail += "; empty: " + ", ".join(t.ref_id or "?" for t in empty)
    else:
        verdict.status = EMPTY
        verdict.detail = "; ".join(dict.fromkeys(f"{t.ref_id or '?'}: {t.detail}" for t in empty))
    if skipped and replayed:
        verdict.detail += f" (skipped {'; '.join(skipped)})"
    if verdict.status == EMPTY:
        verdict.findings = distinct(f for outcome in empty for f in outcome.findings)
    return verdict
