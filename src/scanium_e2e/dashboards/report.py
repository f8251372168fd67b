"""The per-panel report: a plain-text table with fixed-width columns, or JSON records.

One line per panel (id, title, status, detail); under a failing panel, the queries that
were sent and the reasons it is empty, indented to the detail column so the table still
reads as columns in a CI log. Cells are cut to a width (a variable with hundreds of
values would make one query fill a screen); `dashboard_record` keeps everything in full.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC
from typing import Any

from scanium_e2e.dashboards.replay import (
    ALLOWED_EMPTY,
    DATA,
    EMPTY,
    ERROR,
    MISGROUPED,
    SKIPPED,
    DashboardResult,
    PanelResult,
)
from scanium_e2e.promql import format_duration

_ORDER = (DATA, ALLOWED_EMPTY, SKIPPED, EMPTY, MISGROUPED, ERROR)
MAX_TITLE = 40
MAX_ID = 16
# The longest detail, query, reason, variables or note cell the table shows.
MAX_CELL = 160


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def format_report(result: DashboardResult, *, cell_width: int = MAX_CELL) -> str:
    """The report of one dashboard as text (ends without a newline).

    Detail, query, reason, variables and note cells longer than `cell_width` are cut
    (ending in `...`, with a note saying so); `dashboard_record` has them in full.
    """
    cut = _Cutter(cell_width)
    dashboard = result.dashboard
    span = format_duration((result.end - result.start).total_seconds())
    lines = [
        f"{dashboard.title or '(untitled)'} (uid {dashboard.uid or '-'}, {dashboard.source})",
        f"window {_window(result)} ({span}), "
        f"scrape interval {format_duration(result.scrape_interval_s)}; "
        f"variables: {cut(result.variables.describe())}",
    ]
    id_width = min(max([len("ID"), *(len(p.label) for p in result.panels)]), MAX_ID)
    title_width = min(max([len("TITLE"), *(len(p.title) for p in result.panels)]), MAX_TITLE)
    status_width = len(ALLOWED_EMPTY)
    indent = " " * (id_width + title_width + status_width + 6)
    lines.append(
        f"{'ID':<{id_width}}  {'TITLE':<{title_width}}  {'STATUS':<{status_width}}  DETAIL"
    )
    for panel in result.panels:
        lines.append(
            f"{_fit(panel.label, id_width):<{id_width}}  "
            f"{_fit(panel.title or '(untitled)', title_width):<{title_width}}  "
            f"{panel.status:<{status_width}}  {cut(panel.detail)}".rstrip()
        )
        if not panel.failed:
            continue
        for target in panel.targets:
            if target.query:
                query = cut(target.query)
                lines.append(f"{indent}query {target.ref_id or '?'}: {query}")
        lines.extend(f"{indent}why: {cut(finding.render())}" for finding in panel.findings)
    lines.extend(f"note: {cut(note)}" for note in dict.fromkeys(result.notes))
    if cut.count:
        lines.append(
            f"note: {cut.count} cell(s) cut to {cell_width} characters; "
            "the JSON report (--format json) has them in full"
        )
    lines.append("result: " + summary(result))
    return "\n".join(lines)


class _Cutter:
    """Cuts cells to a width and counts how many it cut."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.count = 0

    def __call__(self, text: str) -> str:
        text = _one_line(text)
        if len(text) <= self.width:
            return text
        self.count += 1
        return _fit(text, self.width)


def format_panel(panel: PanelResult) -> str:
    """One panel's verdict on its own: status and detail, then every query in full, and why.

    What a panel's own test failure says; unlike the table, nothing is cut.
    """
    lines = [f"panel {panel.label} {panel.title or '(untitled)'}: {panel.status}: {panel.detail}"]
    lines.extend(
        f"query {target.ref_id or '?'}: {_one_line(target.query)}"
        for target in panel.targets
        if target.query
    )
    lines.extend(f"why: {finding.render()}" for finding in panel.findings)
    return "\n".join(lines)


def dashboard_record(result: DashboardResult) -> dict[str, Any]:
    """One dashboard's verdicts as JSON-ready data, nothing cut: the panels with their
    title, id, status, detail, reasons and the full queries that were sent."""
    dashboard = result.dashboard
    return {
        "title": dashboard.title,
        "uid": dashboard.uid,
        "source": dashboard.source,
        "start": result.start.astimezone(UTC).isoformat(),
        "end": result.end.astimezone(UTC).isoformat(),
        "scrape_interval_s": result.scrape_interval_s,
        "variables": {name: list(v.values) for name, v in result.variables.values.items()},
        "ok": result.ok,
        "checked": result.checked,
        "summary": summary(result),
        "notes": list(dict.fromkeys(result.notes)),
        "panels": [panel_record(panel) for panel in result.panels],
    }


def panel_record(panel: PanelResult) -> dict[str, Any]:
    """One panel's verdict as JSON-ready data (see `dashboard_record`)."""
    return {
        "id": panel.panel.id,
        "label": panel.label,
        "title": panel.title,
        "repeat_value": panel.repeat_value,
        "status": panel.status,
        "detail": panel.detail,
        "reasons": panel.reasons,
        "queries": panel.queries,
        "targets": [
            {
                "ref_id": target.ref_id,
                "expr": target.expr,
                "query": target.query,
                "status": target.status,
                "series": target.series,
                "detail": target.detail,
                "reasons": target.reasons,
            }
            for target in panel.targets
        ],
    }


def summary(result: DashboardResult) -> str:
    """`9 panels: 7 data, 1 allowed-empty, 1 empty -> FAIL` (`-> nothing checked` when
    every panel was skipped: no verdict, never OK)."""
    counts = Counter(p.status for p in result.panels)
    parts = ", ".join(f"{counts[s]} {s}" for s in _ORDER if counts[s])
    verdict = "FAIL" if not result.ok else "OK" if result.checked else "nothing checked"
    return f"{len(result.panels)} panels: {parts or 'none'} -> {verdict}"


def _window(result: DashboardResult) -> str:
    start, end = result.start.astimezone(UTC), result.end.astimezone(UTC)
    end_format = "%H:%M:%S" if start.date() == end.date() else "%Y-%m-%d %H:%M:%S"
    return f"{start:%Y-%m-%d %H:%M:%S} .. {end.strftime(end_format)} UTC"


def _one_line(query: str) -> str:
    return " ".join(query.split())
