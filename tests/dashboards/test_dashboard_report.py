"""The per-panel report table."""

from __future__ import annotations

import json

from dashboard_fixtures import END, START
from fake_mimir import FakeMimir, contract_series

from scanium_e2e.dashboards import (
    DashboardResult,
    check_dashboard,
    dashboard_record,
    format_report,
    parse_dashboard,
    summary,
)
from scanium_e2e.dashboards.report import MAX_CELL

PANELS = {
    "title": "Report",
    "uid": "r",
    "panels": [
        {
            "id": 1,
            "title": "Requests",
            "type": "stat",
            "targets": [{"refId": "A", "expr": "sum(rate(scanium_assistant_requests_total[5m]))"}],
        },
        {
            "id": 22,
            "title": "A title that is much too long to fit in the title column at all",
            "type": "stat",
            "targets": [{"refId": "A", "expr": "missing_metric"}],
        },
        {"id": 3, "title": "Notes", "type": "text"},
        {"id": 4, "title": "Quiet", "type": "stat", "targets": [{"refId": "A", "expr": "quiet"}]},
    ],
}


def report() -> str:
    result = check_dashboard(
        FakeMimir(contract_series()),
        parse_dashboard(PANELS, source="r.json"),
        START,
        END,
        allow_empty={"Quiet": "nothing sends it"},
    )
    return format_report(result)


def test_table_has_fixed_width_columns() -> None:
    lines = report().splitlines()
    assert lines[0] == "Report (uid r, r.json)"
    assert lines[1].startswith(
        "window 2026-11-26 10:00:00 .. 10:15:00 UTC (15m), scrape interval 15s"
    )
    header = lines[2]
    assert header.split() == ["ID", "TITLE", "STATUS", "DETAIL"]
    status_at, detail_at = header.index("STATUS"), header.index("DETAIL")
    rows = [line for line in lines[3:] if line[:1].isdigit()]
    assert len(rows) == 4
    for row in rows:
        assert row[status_at - 2 : status_at] == "  " and row[detail_at - 2 : detail_at] == "  "
    assert rows[0][status_at:].startswith("data") and rows[0].endswith("1 series")
    assert "A title that is much too long to fit ..." in rows[1]
    assert rows[3][status_at:].startswith("allowed-empty  nothing sends it")


def test_failing_panel_shows_query_and_reasons_under_the_detail_column() -> None:
    lines = report().splitlines()
    detail_at = lines[2].index("DETAIL")
    row = next(i for i, line in enumerate(lines) if line.startswith("22 "))
    assert lines[row + 1] == " " * detail_at + "query A: missing_metric"
    assert lines[row + 2].startswith(" " * detail_at + "why: `missing_metric`: metric never seen")
    assert lines[-1] == "result: 4 panels: 1 data, 1 allowed-empty, 1 skipped, 1 empty -> FAIL"


def test_summary_ok() -> None:
    result = check_dashboard(
        FakeMimir(contract_series()),
        parse_dashboard({"panels": PANELS["panels"][:1]}),
        START,
        END,
    )
    assert summary(result) == "1 panels: 1 data -> OK"


MODELS = [f"model-number-{i:03d}" for i in range(300)]
LONG = {
    "title": "Long",
    "uid": "long",
    "templating": {
        "list": [
            {
                "name": "model",
                "type": "custom",
                "query": ",".join(MODELS),
                "multi": True,
                "includeAll": True,
                "current": {"value": ["$__all"]},
            }
        ]
    },
    "panels": [
        {
            "id": 1,
            "title": "By model",
            "type": "timeseries",
            "targets": [{"refId": "A", "expr": 'sum(rate(missing_metric{model=~"$model"}[5m]))'}],
        }
    ],
}


def long_result() -> DashboardResult:
    return check_dashboard(
        FakeMimir(contract_series()), parse_dashboard(LONG, source="long.json"), START, END
    )


def test_long_cells_are_cut_to_a_width_and_the_record_keeps_them_whole() -> None:
    result = long_result()
    query = result.panels[0].targets[0].query
    assert len(query) > 5000 and "model-number-299" in query
    lines = format_report(result).splitlines()
    detail_at = lines[2].index("DETAIL")
    # Every cell fits its width: no row is longer than its column start plus the cell.
    assert max(len(line) for line in lines[2:]) <= detail_at + len("query A: ") + MAX_CELL
    assert len(lines[1].split("variables: ", 1)[1]) == MAX_CELL  # 300 values, cut
    query_line = next(line for line in lines if "query A: " in line)
    assert query_line.endswith("...") and query_line.strip().startswith(
        'query A: sum(rate(missing_metric{model=~"(model-number-000|'
    )
    assert "model-number-299" not in "\n".join(lines)
    assert lines[1].endswith("...")
    assert f"cell(s) cut to {MAX_CELL} characters" in lines[-2]
    assert lines[-1] == "result: 1 panels: 1 empty -> FAIL"
    record = dashboard_record(result)
    assert record["panels"][0]["queries"] == [query]
    assert record["panels"][0]["targets"][0]["query"] == query
    assert record["variables"]["model"] == MODELS


def test_a_report_without_long_cells_says_nothing_about_cutting() -> None:
    assert "cut to" not in report()


def test_the_record_of_a_panel_has_its_verdict_reasons_and_queries() -> None:
    record = dashboard_record(
        check_dashboard(
            FakeMimir(contract_series()), parse_dashboard(PANELS, source="r.json"), START, END
        )
    )
    json.dumps(record)  # JSON-ready as it is
    assert record["title"] == "Report" and record["uid"] == "r" and record["ok"] is False
    missing = next(p for p in record["panels"] if p["id"] == 22)
    assert missing["status"] == "empty" and missing["detail"] == "A: no series"
    assert missing["queries"] == ["missing_metric"]
    assert any("`missing_metric`: metric never seen" in r for r in missing["reasons"])
    notes = next(p for p in record["panels"] if p["id"] == 3)
    assert notes["status"] == "skipped" and notes["queries"] == []
