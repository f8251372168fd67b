"""Our own dashboard, fixtures/grafana: panels, titles, contract metrics, provisioning."""

from __future__ import annotations

import re

from dashboard_fixtures import END, REPO, START
from fake_mimir import FakeMimir, contract_series

from scanium_e2e.contract import load_contract
from scanium_e2e.dashboards import DATA, SKIPPED, check_dashboard, load_dashboard
from scanium_e2e.promql import analyse

GRAFANA = REPO / "fixtures" / "grafana"
DASHBOARD = load_dashboard(GRAFANA / "dashboards" / "openai-runtime.json")


def contract_metric_names() -> set[str]:
    contract = load_contract(REPO / "fixtures" / "contract.json")
    names = {contract.requests.name, contract.errors.name}
    for histogram in (contract.latency.name, contract.tokens.name):
        names |= {f"{histogram}_bucket", f"{histogram}_sum", f"{histogram}_count"}
    assert contract.otlp is not None
    # The OTLP road's families, by the names the store holds them under.
    for spec in contract.otlp.families.values():
        names |= set(spec.series_names)
    return names


def test_identity() -> None:
    assert DASHBOARD.title == "Scanium - OpenAI Runtime"
    assert DASHBOARD.uid == "scanium-openai-runtime"


def test_panels_rows_and_titles() -> None:
    assert [(p.id, p.title, p.type, p.row) for p in DASHBOARD.panels] == [
        (1, "Request Rate", "stat", "Overview"),
        (2, "p95 Latency", "stat", "Overview"),
        (3, "Error Rate", "stat", "Overview"),
        (4, "Tokens/Min", "stat", "Overview"),
        (5, "Request Rate by Model", "timeseries", "Traffic"),
        (6, "Latency Percentiles", "timeseries", "Traffic"),
        (7, "Token Breakdown by type", "timeseries", "Tokens & Errors"),
        (8, "Requests per Interval by Status", "timeseries", "Tokens & Errors"),
        (9, "Errors by Type", "timeseries", "Tokens & Errors"),
        (10, "About this dashboard", "text", "Tokens & Errors"),
        (11, "Remaining Requests", "stat", "The OTLP road"),
        (12, "Remaining Tokens", "stat", "The OTLP road"),
        (13, "Chat Requests by Span Status", "timeseries", "The OTLP road"),
    ]
    collapsed = [p for p in DASHBOARD.panels if ".panels[" in p.path]
    assert [p.id for p in collapsed] == [7, 8, 9, 10]


def test_provider_variable() -> None:
    provider = DASHBOARD.variable("provider")
    assert provider is not None
    assert provider.query == "label_values(scanium_assistant_requests_total, provider)"
    assert provider.multi and provider.include_all and provider.current == ("$__all",)


def test_every_expr_uses_only_contract_metrics_and_labels() -> None:
    allowed = contract_metric_names()
    contract_labels = {"provider", "status", "cache_hit", "token_type", "error_type",
                       "reason_code", "le", "model", "span_name", "status_code"}  # fmt: skip
    for panel in DASHBOARD.panels:
        for target in panel.targets:
            analysis = analyse(
                target.expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")
            )
            assert analysis.metric_names <= allowed, (panel.title, analysis.metric_names)
            for selector in analysis.selectors:
                assert {m.name for m in selector.matchers} <= contract_labels
            for grouping in analysis.groupings:
                assert set(grouping.labels) <= contract_labels, (panel.title, grouping.labels)


def test_queries_use_variables_and_macros_like_real_dashboards() -> None:
    # No panel uses `[$__interval]`: with a 1 s scrape it is shorter than two samples, and
    # with a minimum interval it lags a fresh run by that interval (the e2e window is short).
    # The macro itself is covered in test_dashboard_intervals.
    exprs = "\n".join(t.expr for p in DASHBOARD.panels for t in p.targets)
    for needle in (
        'provider=~"$provider"',
        "${provider:regex}",
        "$__rate_interval",
    ):
        assert needle in exprs


def test_every_panel_uses_the_provisioned_datasource() -> None:
    provisioned = (GRAFANA / "provisioning" / "datasources" / "mimir.yaml").read_text()
    uid = re.search(r"^\s+uid:\s*(\S+)", provisioned, re.M)
    assert uid is not None
    assert "url: http://mimir:9009/prometheus" in provisioned and "type: prometheus" in provisioned
    for panel in DASHBOARD.panels:
        if panel.targets:
            assert panel.datasource == {"type": "prometheus", "uid": uid.group(1)}
            assert all(t.datasource == panel.datasource for t in panel.targets)


def test_dashboard_provider_points_at_the_mounted_folder() -> None:
    provider = (GRAFANA / "provisioning" / "dashboards" / "scanium.yaml").read_text()
    assert "type: file" in provider and "path: /var/lib/grafana/dashboards" in provider


def test_replays_with_data_against_contract_series() -> None:
    result = check_dashboard(
        FakeMimir(contract_series()), DASHBOARD, START, END, scrape_interval_s=1
    )
    assert {p.title: p.status for p in result.panels} == {
        p.title: (SKIPPED if p.type == "text" else DATA) for p in DASHBOARD.panels
    }
