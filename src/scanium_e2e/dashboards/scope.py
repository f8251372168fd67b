"""What of a dashboard this stack can check, and when an empty panel is final.

The stack has one data source: a Prometheus API over the store. A panel whose every query
goes to another one (Loki, Tempo, Grafana's own), or that has no query at all (a text
panel), is **not part of this stack**: it is listed as such, never a passing test, since
nothing about it was checked. Read from the JSON alone (data source references, datasource
variables, exported inputs), before any stack starts, so such panels never become tests.

Once the session's traffic is final (every count check settled: the store holds the scrape
taken after the last request), a panel empty because its query names a metric, a label or
a label value the store never saw will not fill by waiting; it is decided then, as
`scanium-e2e dashboards` decides it in one replay, not at the data deadline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scanium_e2e.dashboards.datasources import MIXED, UNKNOWN, resolve_datasource
from scanium_e2e.dashboards.interpolation import VariableValue
from scanium_e2e.dashboards.model import Dashboard, Panel
from scanium_e2e.findings import Kind
from scanium_e2e.promql import PromQLSyntaxError, analyse

# Empty-query findings that no later sample can change once the traffic is final: the
# store has seen every series the run will ever create, and the scrape after its last
# request, so what the operators drop (`increase(...) > 0` over series that never rose
# after their first sample) stays dropped. Too few samples for a rate, or NaN quantiles,
# can still fill with a later scrape: those keep waiting.
FINAL_AFTER_TRAFFIC = frozenset(
    {
        Kind.OPERATORS_EMPTIED,
        Kind.METRIC_NEVER_SEEN,
        Kind.LABEL_NEVER_SEEN,
        Kind.VALUE_NEVER_SEEN,
        Kind.REGEX_MATCHES_NO_VALUE,
        Kind.MATCHER_EXCLUDES_ALL,
        Kind.COMBINATION_NEVER_SEEN,
        Kind.SERIES_NEVER_SEEN,
        Kind.UNKNOWN_VARIABLE,
        Kind.NO_SELECTORS,
    }
)


@dataclass(frozen=True)
class OutsidePanel:
    """A panel this stack cannot check, and why."""

    dashboard: str
    panel: Panel
    reason: str

    def line(self) -> str:
        """`'Logs' #4 Error logs: loki data source loki`."""
        return f"{self.dashboard!r} {self.panel.key}: {self.reason}"


def _datasource_variables(dashboard: Dashboard) -> dict[str, VariableValue]:
    """Each datasource template variable, typed by its plugin (its `query`)."""
    return {
        variable.name: VariableValue(
            variable.name,
            (variable.current[0] if variable.current else "default",),
            kind="datasource",
            datasource_type=variable.query,
        )
        for variable in dashboard.variables
        if variable.type == "datasource"
    }


def outside_reason(dashboard: Dashboard, panel: Panel) -> str:
    """Why `panel` is not part of this stack, or "" when some query of it can be replayed.

    A target of an untyped data source with an expression stays in (it is most likely
    PromQL, as the replay assumes), and so does a library panel (its test says what is
    missing); hidden targets do not count.
    """
    if panel.library_panel:
        return ""
    if not panel.targets:
        return f"{panel.type or 'untyped'} panel without queries"
    variables = _datasource_variables(dashboard)
    panel_source = resolve_datasource(panel.datasource, dashboard, variables)
    others: list[str] = []
    for target in panel.targets:
        if target.hidden:
            continue
        ref = panel.datasource
        if target.datasource is not None and (
            panel_source.type == MIXED or panel.datasource is None
        ):
            ref = target.datasource
        source = resolve_datasource(ref, dashboard, variables)
        if source.type == MIXED:
            source = resolve_datasource(None, dashboard, variables)
        if not (source.is_prometheus or source.type == UNKNOWN):
            others.append(f"{source.type} data source {source.name}")
        elif target.expr.strip():
            return ""
        else:
            others.append("a query without an expression")
    if not others:
        return "every query is hidden"
    return ", ".join(dict.fromkeys(others))


def outside_panels(dashboard: Dashboard) -> list[OutsidePanel]:
    """The panels of `dashboard` this stack cannot check."""
    found: list[OutsidePanel] = []
    for panel in dashboard.panels:
        reason = outside_reason(dashboard, panel)
        if reason:
            found.append(OutsidePanel(dashboard.title, panel, reason))
    return found


# Grafana's macros (`$__rate_interval`, `${__interval}`): durations, for a static reading.
_MACRO = re.compile(r"\$\{?__\w+(?::\w+)?\}?")


def panel_metrics(panel: Panel) -> frozenset[str] | None:
    """The metric names the panel's queries select, read from the JSON alone (its macros
    read as a duration, its variables where they sit inside label values); None when a
    query cannot be read so (a variable outside a label value, a selector without a name)."""
    names: set[str] = set()
    for target in panel.targets:
        try:
            analysis = analyse(_MACRO.sub("5m", target.expr))
        except PromQLSyntaxError:
            return None
        if not analysis.selectors or any(not selector.name for selector in analysis.selectors):
            return None
        names.update(selector.name for selector in analysis.selectors)
    return frozenset(names)
