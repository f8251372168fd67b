"""check_dashboard: replaying panels against a fake Mimir and the verdict on each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dashboard_fixtures import END, JSON_DIR, START
from fake_mimir import FakeMimir, contract_series

from scanium_e2e.clients.query import QueryError, Series
from scanium_e2e.dashboards import (
    ALLOWED_EMPTY,
    DATA,
    EMPTY,
    ERROR,
    MISGROUPED,
    SKIPPED,
    DashboardResult,
    check_dashboard,
    load_dashboard,
    parse_dashboard,
    unused_allowances,
)
from scanium_e2e.errors import ConfigurationError
from scanium_e2e.findings import Kind
from scanium_e2e.polling import TransientError


def scanium() -> FakeMimir:
    stored = contract_series()
    for item in stored:
        item.labels["job"] = "scanium-backend"
    return FakeMimir(stored)


def check(path: Path, client: FakeMimir | None = None, **kwargs: Any) -> DashboardResult:
    return check_dashboard(
        client or scanium(),
        load_dashboard(path),
        START,
        END,
        scrape_interval_s=1.0,
        **kwargs,
    )


def statuses(result: DashboardResult) -> dict[str, str]:
    return {p.label: p.status for p in result.panels}


def test_kitchen_sink_verdicts() -> None:
    result = check(JSON_DIR / "kitchen_sink.json")
    assert statuses(result) == {
        "1": DATA,
        "2": DATA,
        "3": SKIPPED,
        "4": SKIPPED,
        "5[claude]": DATA,
        "5[openai]": DATA,
        "6": SKIPPED,
        "7": DATA,
        "8": DATA,
    }
    assert result.ok


def test_hidden_target_is_not_replayed() -> None:
    client = scanium()
    result = check(JSON_DIR / "kitchen_sink.json", client)
    (requests,) = result.for_panel("Requests")
    assert requests.queries == [
        'sum(rate(scanium_assistant_requests_total{provider=~"(claude|openai)", status=~".*"}[4s]))'
    ]
    assert "this is not promql" not in client.range_queries
    assert requests.targets[1].status == SKIPPED and requests.targets[1].detail == "hidden"


def test_mixed_datasource_replays_only_prometheus_targets() -> None:
    (mixed,) = check(JSON_DIR / "kitchen_sink.json").for_panel(2)
    assert [t.status for t in mixed.targets] == [DATA, SKIPPED]
    assert "skipped B: loki data source logs" in mixed.detail


def test_skip_reasons() -> None:
    result = check(JSON_DIR / "kitchen_sink.json")
    assert result.for_panel(3)[0].detail == "text panel without queries"
    assert result.for_panel(4)[0].detail == "A: loki data source logs"
    assert "library panel Somewhere else (uid lib-missing)" in result.for_panel(6)[0].detail


def test_repeated_panel_expands_per_value_with_its_title() -> None:
    result = check(JSON_DIR / "kitchen_sink.json")
    repeats = result.for_panel(5)
    assert [p.title for p in repeats] == ["Latency for claude", "Latency for openai"]
    assert 'provider="claude"' in repeats[0].queries[0]
    assert result.for_panel("Latency for openai") == [repeats[1]]


def test_repeat_over_a_variable_without_values() -> None:
    result = check(JSON_DIR / "kitchen_sink.json", FakeMimir([]))
    (repeat,) = result.for_panel(5)
    assert repeat.status == EMPTY and repeat.detail == "repeats over $provider, which has no values"


def test_datasource_variable_panel_interval_and_named_datasource() -> None:
    (named,) = check(JSON_DIR / "kitchen_sink.json").for_panel(8)
    assert named.queries == [
        'sum(increase(scanium_assistant_requests_total{job="scanium-backend"}[1m]))'
    ]


def test_exported_dashboard_inputs() -> None:
    client = FakeMimir(contract_series())
    client.stored[0].labels["__name__"] = "up"
    client.stored[0].labels["job"] = "scanium-backend"
    result = check(JSON_DIR / "exported.json", client)
    assert statuses(result) == {"1": DATA, "2": SKIPPED}
    assert result.for_panel(1)[0].queries == ['up{job="scanium-backend"}']
    assert result.for_panel(2)[0].detail == "A: loki data source ${DS_LOGS}"


def test_legacy_rows_and_bracket_syntax() -> None:
    (panel,) = check(JSON_DIR / "legacy_rows.json").panels
    assert panel.status == DATA
    assert panel.queries == [
        'sum by (status) (rate(scanium_assistant_requests_total{provider=~"openai"}[5m]))'
    ]


def one_panel(expr: str, **panel: object) -> dict[str, Any]:
    return {
        "title": "One",
        "panels": [
            {"id": 1, "title": "Only", "type": "stat", "targets": [{"refId": "A", "expr": expr}]}
            | panel
        ],
    }


def check_data(data: dict[str, Any], client: FakeMimir, **kwargs: Any) -> DashboardResult:
    return check_dashboard(client, parse_dashboard(data), START, END, **kwargs)


def test_empty_panel_is_explained() -> None:
    result = check_data(
        one_panel('sum(rate(scanium_assistant_errors_total{provider="mock"}[5m]))'), scanium()
    )
    (panel,) = result.panels
    assert panel.status == EMPTY and not result.ok
    assert panel.detail == "A: no series"
    assert any('`provider="mock"` never seen' in r and '"openai"' in r for r in panel.reasons)


def test_error_carries_mimirs_message() -> None:
    client = scanium()
    result = check_data(one_panel("sum(rate(x[5m])) by ($missing)"), client)
    (panel,) = result.panels
    assert panel.status == ERROR
    assert panel.detail == (
        "A: bad_data: parse error: unexpected character: '$' (unknown variable $missing)"
    )


def test_nan_only_result_is_empty_with_a_reason() -> None:
    client = scanium()
    query = "histogram_quantile(0.95, x)"
    client.responses[query] = [Series({}, [(1.0, float("nan"))])]
    (panel,) = check_data(one_panel(query), client).panels
    assert panel.status == EMPTY and panel.detail == "A: 1 series, every value NaN"
    assert "histogram_quantile() over buckets that did not increase" in panel.reasons[0]


def test_allow_list_by_title_and_by_id() -> None:
    data = one_panel("nothing_here")
    by_title = check_data(data, scanium(), allow_empty={"Only": "no traffic for it"})
    assert by_title.panels[0].status == ALLOWED_EMPTY
    assert by_title.panels[0].detail == "no traffic for it" and by_title.ok
    by_id = check_data(data, scanium(), allow_empty={"1": "no traffic", "Typo": "x"})
    assert by_id.panels[0].status == ALLOWED_EMPTY
    assert unused_allowances([by_id], {"1": "no traffic", "Typo": "x"}) == ["Typo"]


def test_allow_list_does_not_hide_errors() -> None:
    client = scanium()
    client.responses["up"] = QueryError("Mimir rejected the range query `up`: too many samples")
    result = check_data(one_panel("up"), client, allow_empty={"Only": "fine"})
    assert result.panels[0].status == ERROR


def test_variable_overrides_reach_the_queries() -> None:
    result = check(JSON_DIR / "kitchen_sink.json", variables={"provider": ["openai"]})
    assert [p.title for p in result.for_panel(5)] == ["Latency for openai"]
    assert 'provider=~"openai"' in result.for_panel(1)[0].queries[0]


def test_unreachable_mimir_propagates_transient_error() -> None:
    client = scanium()

    def down(*args: object, **kwargs: object) -> list[Series]:
        raise TransientError("Mimir at http://127.0.0.1:9 is unreachable (connection refused)")

    client.range = down
    with pytest.raises(TransientError):
        check(JSON_DIR / "legacy_rows.json", client)


def test_window_must_not_be_empty() -> None:
    with pytest.raises(ConfigurationError, match="must end after it starts"):
        check_dashboard(scanium(), load_dashboard(JSON_DIR / "legacy_rows.json"), END, START)


def test_step_follows_the_scrape_interval() -> None:
    client = scanium()
    check(JSON_DIR / "legacy_rows.json", client)
    assert client.steps == [1.0]


def test_repeated_row_expands_its_panels() -> None:
    data: dict[str, Any] = {
        "panels": [
            {"type": "row", "id": 100, "title": "Row for $provider", "repeat": "provider"},
            {
                "id": 1,
                "type": "stat",
                "title": "Requests ($provider)",
                "targets": [
                    {"refId": "A", "expr": 'scanium_assistant_requests_total{provider="$provider"}'}
                ],
            },
        ],
        "templating": {
            "list": [
                {
                    "name": "provider",
                    "type": "custom",
                    "query": "openai,claude,mock",
                    "multi": True,
                    "includeAll": True,
                    "current": {"value": "$__all"},
                }
            ]
        },
    }
    result = check_data(data, scanium())
    assert [(p.label, p.title, p.status) for p in result.panels] == [
        ("1[openai]", "Requests (openai)", DATA),
        ("1[claude]", "Requests (claude)", DATA),
        ("1[mock]", "Requests (mock)", EMPTY),
    ]


def test_expression_and_dashboard_datasources_are_skipped() -> None:
    data = one_panel("up")
    panel = data["panels"][0]
    panel["targets"].append(
        {"refId": "B", "datasource": {"type": "__expr__", "uid": "__expr__"}, "expression": "$A*2"}
    )
    panel["datasource"] = {"type": "datasource", "uid": "-- Mixed --"}
    client = scanium()
    client.stored[0].labels["__name__"] = "up"
    (result,) = check_data(data, client).panels
    assert result.status == DATA and "B: expression data source __expr__" in result.detail


def test_grouping_by_a_label_the_metric_lacks_is_misgrouped() -> None:
    # Data comes back (one series without `model`), but not the breakdown the panel shows.
    result = check_data(
        one_panel("sum by (model) (rate(scanium_assistant_requests_total[5m]))"), scanium()
    )
    (panel,) = result.panels
    assert panel.status == MISGROUPED and not result.ok
    assert [finding.kind for finding in panel.findings] == [Kind.GROUPING_LABEL_MISSING]
    assert "`model`" in panel.reasons[0]


def test_grouping_by_labels_the_metric_has_is_data() -> None:
    result = check_data(
        one_panel("sum by (provider, status) (rate(scanium_assistant_requests_total[5m]))"),
        scanium(),
    )
    assert statuses(result) == {"1": DATA}
