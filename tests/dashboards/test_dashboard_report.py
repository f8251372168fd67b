"""The per-panel report table."""

from __future__ import annotations

from dashboard_fixtures import END, START
from fake_mimir import FakeMimir, contract_series

from scanium_e2e.dashboards import check_dashboard, format_report, parse_dashboard, summary

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
