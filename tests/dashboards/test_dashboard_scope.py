"""Which panels this stack can check (not Loki, Tempo or text), and which empty panels are
final once the traffic is."""

from __future__ import annotations

from typing import Any

from scanium_e2e.checks.dashboards import settled_empty
from scanium_e2e.dashboards import parse_dashboard
from scanium_e2e.dashboards.replay import EMPTY, PanelResult
from scanium_e2e.dashboards.scope import outside_panels, outside_reason, panel_metrics
from scanium_e2e.findings import Finding, Kind


def dashboard(panels: list[dict[str, Any]], variables: list[dict[str, Any]] | None = None) -> Any:
    return parse_dashboard(
        {"title": "T", "uid": "t", "panels": panels, "templating": {"list": variables or []}}
    )


PROM = {"type": "prometheus", "uid": "mimir"}
LOKI = {"type": "loki", "uid": "LOKI"}


def test_text_loki_tempo_panels_are_not_part_of_this_stack() -> None:
    board = dashboard(
        [
            {
                "id": 1,
                "title": "Rate",
                "type": "timeseries",
                "datasource": PROM,
                "targets": [{"refId": "A", "expr": "rate(x[1m])"}],
            },
            {"id": 2, "title": "Notes", "type": "text"},
            {
                "id": 3,
                "title": "Logs",
                "type": "logs",
                "datasource": LOKI,
                "targets": [{"refId": "A", "expr": '{app="x"}'}],
            },
            {
                "id": 4,
                "title": "Traces",
                "type": "table",
                "datasource": {"type": "tempo", "uid": "TEMPO"},
                "targets": [{"refId": "A", "query": "{}"}],
            },
            {
                "id": 5,
                "title": "Via variable",
                "type": "timeseries",
                "datasource": "${logs}",
                "targets": [{"refId": "A", "expr": 'count_over_time({a="b"}[1m])'}],
            },
            {
                "id": 6,
                "title": "Mixed",
                "type": "timeseries",
                "datasource": {"type": "datasource", "uid": "-- Mixed --"},
                "targets": [
                    {"refId": "A", "datasource": LOKI, "expr": '{a="b"}'},
                    {"refId": "B", "datasource": PROM, "expr": "up"},
                ],
            },
            {
                "id": 7,
                "title": "No expr",
                "type": "stat",
                "datasource": PROM,
                "targets": [{"refId": "A", "expr": ""}],
            },
        ],
        [{"name": "logs", "type": "datasource", "query": "loki"}],
    )
    reasons = {item.panel.id: item.reason for item in outside_panels(board)}
    assert reasons == {
        2: "text panel without queries",
        3: "loki data source LOKI",
        4: "tempo data source TEMPO",
        5: "loki data source ${logs}",
        7: "a query without an expression",
    }
    assert outside_reason(board, board.panels[0]) == ""
    assert outside_reason(board, board.panels[5]) == ""  # its Prometheus query is checked


def test_a_value_never_seen_is_final_only_once_the_traffic_is() -> None:
    board = dashboard([])
    panel = dashboard(
        [{"id": 1, "title": "P", "datasource": PROM, "targets": [{"refId": "A", "expr": "x"}]}]
    ).panels[0]
    value = Finding(Kind.VALUE_NEVER_SEEN, subject="x", expected='env="prod"')
    empty = PanelResult(panel, "P", EMPTY, "no series", findings=[value])
    assert not settled_empty(empty)
    assert settled_empty(empty, traffic_final=True)
    dropped = PanelResult(panel, "P", EMPTY, "", findings=[Finding(Kind.OPERATORS_EMPTIED)])
    assert settled_empty(dropped, traffic_final=True) and not settled_empty(dropped)
    few = PanelResult(panel, "P", EMPTY, "", findings=[Finding(Kind.TOO_FEW_SAMPLES, "x")])
    assert not settled_empty(few, traffic_final=True)  # a later scrape can fill a rate
    del board


def test_a_panels_metrics_are_read_from_its_json() -> None:
    def panel(*exprs: str) -> Any:
        targets = [{"refId": chr(65 + i), "expr": expr} for i, expr in enumerate(exprs)]
        board = dashboard([{"id": 1, "title": "P", "type": "stat", "datasource": PROM,
                            "targets": targets}])  # fmt: skip
        return board.panels[0]

    assert panel_metrics(
        panel(
            'sum(rate(calls_total{span_name="POST /x", job=~"$job"}[$__rate_interval]))',
            "max by (model) (openai_rate_limit_requests_remaining_ratio)",
        )
    ) == frozenset({"calls_total", "openai_rate_limit_requests_remaining_ratio"})
    # A variable where no value goes, or a selector without a name: not readable so.
    assert panel_metrics(panel("sum by ($group) (up)")) is None
    assert panel_metrics(panel('{job="x"}')) is None
