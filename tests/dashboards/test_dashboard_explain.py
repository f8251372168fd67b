"""explain_empty: pint-style reasons for an empty query, against a tiny fake Mimir."""

from __future__ import annotations

from dashboard_fixtures import END, START
from fake_mimir import FakeMimir, series

from scanium_e2e.clients.query import QueryError
from scanium_e2e.verdict.empty_query import explain_empty

REQUESTS = "scanium_assistant_requests_total"


def fake() -> FakeMimir:
    return FakeMimir(
        [
            series(REQUESTS, provider="openai", status="success", cache_hit="false"),
            series(REQUESTS, provider="claude", status="error", cache_hit="false"),
            series("scanium_assistant_tokens_used_sum", provider="openai", token_type="input"),
            series("old_metric", in_window=False, job="x"),
            series("sparse_total", samples=1, job="x"),
        ]
    )


def explain(expr: str, client: FakeMimir | None = None) -> list[str]:
    return [finding.render() for finding in explain_empty(client or fake(), expr, START, END)]


def test_metric_never_seen_suggests_a_close_name() -> None:
    (reason,) = explain("sum(rate(scanium_assistant_request_total[5m]))")
    assert (
        "`scanium_assistant_request_total`: metric never seen between 2026-11-26 10:00:00" in reason
    )
    assert f"did you mean `{REQUESTS}`" in reason


def test_a_name_the_otlp_exporter_extended_is_named_with_its_labels() -> None:
    """Scanium's Remaining Requests panel: its gauge (unit 1) reached the store as
    `..._ratio`, without the `provider` label the panel filters on."""
    stored = "openai_rate_limit_requests_remaining_ratio"
    client = FakeMimir([series(stored, model="gpt-4o-mini", limit_type="requests", job="b")])
    (reason,) = explain('openai_rate_limit_requests_remaining{provider=~"openai"}', client)
    assert "`openai_rate_limit_requests_remaining`: metric never seen" in reason
    assert f"the store holds `{stored}` (labels: job, limit_type, model)" in reason
    assert "an OTLP exporter appends the unit and type" in reason
    assert reason.endswith("and it carries no `provider`")
    assert "did you mean" not in reason


def test_metric_seen_only_outside_the_window() -> None:
    (reason,) = explain("old_metric")
    assert "metric never seen" in reason and "outside this window" in reason


def test_label_never_seen_lists_the_labels() -> None:
    (reason,) = explain(f'{REQUESTS}{{model="gpt-4o"}}')
    assert "label `model` never seen on `scanium_assistant_requests_total`" in reason
    assert "its labels: cache_hit, provider, status" in reason


def test_value_never_seen_lists_existing_values() -> None:
    (reason,) = explain(f'rate({REQUESTS}{{provider="mock"}}[5m])')
    assert '`provider="mock"` never seen' in reason
    assert 'provider values seen: "claude", "openai"' in reason


def test_multi_value_in_equality_matcher_is_explained() -> None:
    # The classic Grafana mistake: a multi-value variable in `=` instead of `=~`.
    (reason,) = explain(f'{REQUESTS}{{provider="(claude|openai)"}}')
    assert '`provider="(claude|openai)"` never seen' in reason


def test_regex_matching_no_value() -> None:
    (reason,) = explain(f'{REQUESTS}{{provider=~"mock|gemini"}}')
    assert "matches no value of `provider`" in reason and '"claude", "openai"' in reason


def test_negative_matcher_excluding_everything() -> None:
    (reason,) = explain(f'{REQUESTS}{{cache_hit!="false"}}')
    assert "excludes every series" in reason


def test_matchers_that_only_fail_together() -> None:
    (reason,) = explain(f'{REQUESTS}{{provider="openai", status="error"}}')
    assert "no series matches all of them together" in reason
    assert '{provider="openai", status="success"}' in reason
    assert '{provider="claude", status="error"}' in reason


def test_grouping_by_a_label_the_metric_lacks() -> None:
    reasons = explain(f'sum by (model) (rate({REQUESTS}{{provider="mock"}}[5m]))')
    assert any("`sum by (model)` groups by `model`" in r for r in reasons)
    assert any('`provider="mock"` never seen' in r for r in reasons)


def test_grouping_after_an_inner_aggregation() -> None:
    reasons = explain(f'sum by (provider) (sum by (status) ({REQUESTS}{{provider="mock"}}))')
    assert any("groups by `provider`" in r and "available: status" in r for r in reasons)


def test_label_created_by_label_replace_is_not_reported() -> None:
    reasons = explain(
        f'sum by (vendor) (label_replace({REQUESTS}{{provider="mock"}}, "vendor", "$1", '
        '"provider", "(.*)"))'
    )
    assert not any("groups by" in r for r in reasons)


def test_rate_needs_two_samples() -> None:
    (reason,) = explain("rate(sparse_total[4s])")
    assert "at most 1 sample in any [4s] range: rate() needs at least 2" in reason


def test_everything_matches_so_the_operators_emptied_it() -> None:
    (reason,) = explain(f"{REQUESTS} > 1e9")
    assert "the operators emptied the result" in reason


def test_absent_is_empty_when_the_metric_exists() -> None:
    (reason,) = explain(f"absent({REQUESTS})")
    assert "absent() returns nothing" in reason


def test_unparsable_expression() -> None:
    (reason,) = explain("sum(rate(x[5m])")
    assert reason.startswith("could not read the expression")


def test_words_and_mistyped_arguments_are_not_read_as_selectors() -> None:
    for expr in ("this is not promql", "sum(x[5m] offset 1m)"):
        (reason,) = explain(expr)
        assert reason.startswith("could not read the expression to explain it (invalid PromQL")


def test_rejected_explanation_query_becomes_a_reason() -> None:
    client = fake()
    client.responses["count_over_time(sparse_total[4s])"] = QueryError("Mimir rejected it: boom")
    (reason,) = explain("rate(sparse_total[4s])", client)
    assert reason == "could not check `sparse_total`: Mimir rejected it: boom"


def test_each_selector_is_explained_once() -> None:
    reasons = explain("missing_total / missing_total + missing_total")
    assert len(reasons) == 1


def test_metric_without_labels_is_not_reported_missing() -> None:
    client = FakeMimir([series("scanium_assistant_cache_hit_rate")])
    (reason,) = explain('scanium_assistant_cache_hit_rate{provider="x"}', client)
    assert "label `provider` never seen" in reason and "its labels: none" in reason
