"""Check Grafana dashboards against Mimir: does every panel's query return data?

    dashboard = load_dashboard("fixtures/grafana/dashboards/openai-runtime.json")
    result = check_dashboard(client, dashboard, start, end, scrape_interval_s=1.0,
                             allow_empty={"Error Rate": "no error traffic"})
    print(format_report(result)); assert result.ok

Modules: `loading` (JSON -> Dashboard), `variables` (template variables), `interpolation`
(`$var` forms and formats), `intervals` (step and `$__` macros), `datasources`, `replay`
(the verdicts), `report` (the table). Empty-result explanations live in
`scanium_e2e.verdict.empty_query`, the PromQL reader in `scanium_e2e.promql`.
"""

from scanium_e2e.dashboards.interpolation import VariableValue, interpolate
from scanium_e2e.dashboards.intervals import QueryTiming, macros, query_timing
from scanium_e2e.dashboards.loading import (
    DashboardFormatError,
    dashboard_files,
    load_dashboard,
    load_dashboards,
    parse_dashboard,
)
from scanium_e2e.dashboards.model import Dashboard, Panel, Target, Variable
from scanium_e2e.dashboards.replay import (
    ALLOWED_EMPTY,
    DATA,
    EMPTY,
    ERROR,
    MISGROUPED,
    SKIPPED,
    DashboardResult,
    PanelResult,
    TargetResult,
    check_dashboard,
    unused_allowances,
)
from scanium_e2e.dashboards.report import (
    dashboard_record,
    format_panel,
    format_report,
    panel_record,
    summary,
)
from scanium_e2e.dashboards.variables import ResolvedVariables, resolve_variables

__all__ = [
    "ALLOWED_EMPTY",
    "DATA",
    "EMPTY",
    "ERROR",
    "MISGROUPED",
    "SKIPPED",
    "Dashboard",
    "DashboardFormatError",
    "DashboardResult",
    "Panel",
    "PanelResult",
    "QueryTiming",
    "ResolvedVariables",
    "Target",
    "TargetResult",
    "Variable",
    "VariableValue",
    "check_dashboard",
    "dashboard_files",
    "dashboard_record",
    "format_panel",
    "format_report",
    "interpolate",
    "load_dashboard",
    "load_dashboards",
    "macros",
    "panel_record",
    "parse_dashboard",
    "query_timing",
    "resolve_variables",
    "summary",
    "unused_allowances",
]
