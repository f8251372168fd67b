"""Template variables: every type, query forms, regex filter, chaining, current fallback."""

from __future__ import annotations

from typing import Any

from dashboard_fixtures import END, JSON_DIR, START
from fake_mimir import FakeMimir, series

from scanium_e2e.clients.query import QueryError
from scanium_e2e.dashboards import load_dashboard, parse_dashboard, resolve_variables
from scanium_e2e.dashboards.model import Option
from scanium_e2e.dashboards.variables import ResolvedVariables, custom_options, sort_options

REQUESTS = "scanium_assistant_requests_total"


def fake() -> FakeMimir:
    return FakeMimir(
        [
            series(REQUESTS, provider="openai", status="success", job="scanium-backend"),
            series(REQUESTS, provider="claude", status="error", job="scanium-backend"),
            series(REQUESTS, provider="mock", status="success", job="other"),
            series("scanium_http_requests_total", route="/v1/assist/chat"),
        ]
    )


def resolve(
    *variables: dict[str, Any],
    client: FakeMimir | None = None,
    overrides: dict[str, list[str]] | None = None,
) -> ResolvedVariables:
    dashboard = parse_dashboard({"panels": [], "templating": {"list": list(variables)}})
    return resolve_variables(client or fake(), dashboard, START, END, overrides=overrides)


def query_var(query: str, **extra: Any) -> dict[str, Any]:
    return {"name": "v", "type": "query", "query": query, **extra}


def values(resolved: ResolvedVariables, name: str = "v") -> tuple[str, ...]:
    return resolved.values[name].values


def test_label_values_of_a_label() -> None:
    resolved = resolve(query_var("label_values(provider)", multi=True, includeAll=True))
    assert values(resolved) == ("claude", "mock", "openai")


def test_label_values_of_a_metric() -> None:
    found = resolve(query_var(f"label_values({REQUESTS}, status)", multi=True, includeAll=True))
    assert values(found) == ("error", "success") and found.values["v"].is_all


def test_label_values_of_a_selector() -> None:
    resolved = resolve(query_var('label_values({job="scanium-backend"}, provider)'))
    assert values(resolved) == ("claude",)  # not multi: Grafana selects the first option


def test_metrics_with_a_regex() -> None:
    resolved = resolve(query_var("metrics(http_.*_total)", multi=True, includeAll=True))
    assert values(resolved) == ("scanium_http_requests_total",)


def test_query_result_with_a_capture_regex() -> None:
    resolved = resolve(
        query_var(
            f"query_result({REQUESTS})",
            regex='/provider="([^"]+)"/',
            multi=True,
            includeAll=True,
            sort=1,
        )
    )
    assert values(resolved) == ("claude", "mock", "openai")


def test_regex_filter_with_named_groups() -> None:
    resolved = resolve(
        query_var(
            "label_values(route)",
            regex="/\\/v1\\/(?<value>[a-z]+)\\/(?<text>.*)/",
            current={"value": "assist"},
        )
    )
    assert values(resolved) == ("assist",)
    assert resolved.values["v"].texts == ("chat",)


def test_bare_regex_is_anchored() -> None:
    resolved = resolve(
        query_var("label_values(provider)", regex="o.*", multi=True, includeAll=True)
    )
    assert values(resolved) == ("openai",)


def test_grafana_10_query_object() -> None:
    resolved = resolve(
        query_var("", multi=True, includeAll=True)
        | {"query": {"qryType": 1, "label": "status", "metric": REQUESTS, "refId": "x"}}
    )
    assert values(resolved) == ("error", "success")


def test_custom_options_with_text_and_escaped_commas() -> None:
    assert custom_options(r"a, b\,c , Pretty : value") == [
        Option("a", "a"),
        Option("b,c", "b,c"),
        Option("Pretty", "value"),
    ]
    resolved = resolve(
        {"name": "v", "type": "custom", "query": "openai,claude", "current": {"value": "claude"}}
    )
    assert values(resolved) == ("claude",)


def test_constant_and_textbox() -> None:
    resolved = resolve(
        {"name": "c", "type": "constant", "query": "scanium-backend"},
        {"name": "t", "type": "textbox", "query": "default", "current": {"value": "typed"}},
        {"name": "u", "type": "textbox", "query": "default"},
    )
    assert values(resolved, "c") == ("scanium-backend",)
    assert values(resolved, "t") == ("typed",)
    assert values(resolved, "u") == ("default",)


def test_interval_variable_auto_current_and_first_option() -> None:
    resolved = resolve(
        {
            "name": "a",
            "type": "interval",
            "query": "1m,5m",
            "auto": True,
            "auto_count": 30,
            "auto_min": "10s",
            "current": {"text": "auto", "value": "$__auto_interval_a"},
        },
        {"name": "b", "type": "interval", "query": "1m,5m", "current": {"value": "5m"}},
        {"name": "c", "type": "interval", "query": "1m,5m"},
    )
    assert values(resolved, "a") == ("30s",)  # 15m / 30 points
    assert values(resolved, "b") == ("5m",)
    assert values(resolved, "c") == ("1m",)


def test_datasource_variable_carries_its_plugin_type() -> None:
    resolved = resolve(
        {"name": "ds", "type": "datasource", "query": "prometheus", "current": {"value": "mimir"}}
    )
    assert resolved.values["ds"].datasource_type == "prometheus"
    assert values(resolved, "ds") == ("mimir",)


def test_variables_chained_on_variables_resolve_in_dependency_order() -> None:
    client = fake()
    resolved = resolve(
        query_var(
            f'label_values({REQUESTS}{{provider=~"$p"}}, status)', multi=True, includeAll=True
        )
        | {"name": "s"},
        {
            "name": "p",
            "type": "custom",
            "query": "openai,claude,mock",
            "multi": True,
            "current": {"value": ["openai", "mock"]},
        },
        client=client,
    )
    assert values(resolved, "p") == ("openai", "mock")
    assert values(resolved, "s") == ("success",)
    assert f'label_values status {REQUESTS}{{provider=~"(openai|mock)"}}' in client.other_queries


def test_saved_current_is_kept_when_still_an_option() -> None:
    resolved = resolve(query_var("label_values(provider)", current={"value": "mock"}))
    assert values(resolved) == ("mock",)


def test_saved_current_missing_from_mimir_falls_back_like_grafana() -> None:
    resolved = resolve(
        query_var(
            "label_values(provider)", includeAll=True, multi=True, current={"value": "gemini"}
        )
    )
    assert resolved.values["v"].is_all and values(resolved) == ("claude", "mock", "openai")
    assert any("saved value gemini is not among the values found" in n for n in resolved.notes)


def test_failed_query_falls_back_to_saved_current_with_a_note() -> None:
    client = fake()
    client.label_values = _raise
    resolved = resolve(
        query_var("label_values(provider)", current={"value": "openai"}), client=client
    )
    assert values(resolved) == ("openai",)
    assert any("failed" in n and "using its saved value" in n for n in resolved.notes)


def _raise(*args: object, **kwargs: object) -> list[str]:
    raise QueryError(
        status=422, error_type="execution", error="too many series", kind="label values"
    )


def test_query_with_no_values_is_noted() -> None:
    resolved = resolve(query_var("label_values(nothing_here, provider)"))
    assert values(resolved) == ()
    assert any("found no values in the window" in n for n in resolved.notes)


def test_overrides_pin_values_and_all() -> None:
    resolved = resolve(
        query_var("label_values(provider)", multi=True, includeAll=True),
        overrides={"v": ["openai", "claude"], "nope": ["x"]},
    )
    assert values(resolved) == ("openai", "claude")
    assert "nope" not in resolved.values
    every = resolve(
        query_var("label_values(provider)", multi=True, includeAll=True, current={"value": "mock"}),
        overrides={"v": ["All"]},
    )
    assert every.values["v"].is_all


def test_sort_orders() -> None:
    options = [Option(t, t) for t in ("b10", "a2", "B1")]
    assert [o.text for o in sort_options(options, 1)] == ["B1", "a2", "b10"]
    assert [o.text for o in sort_options(options, 3)] == ["B1", "a2", "b10"]
    assert [o.text for o in sort_options(options, 4)] == ["b10", "a2", "B1"]
    assert [o.text for o in sort_options(options, 5)] == ["a2", "B1", "b10"]
    assert [o.text for o in sort_options(options, 7)] == ["a2", "B1", "b10"]


def test_kitchen_sink_chain_declared_out_of_order() -> None:
    dashboard = load_dashboard(f"{JSON_DIR}/kitchen_sink.json")
    resolved = resolve_variables(fake(), dashboard, START, END)
    assert resolved.values["provider"].is_all
    assert values(resolved, "provider") == ("claude", "mock", "openai")
    assert resolved.values["status"].is_all and resolved.values["status"].all_value == ".*"
    assert values(resolved, "resolution") == ("1m",)
