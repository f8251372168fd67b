"""The classic traps, through the whole Grafana-rule evaluation and the healthy verdict:
`or vector(0)`, rate() over a window shorter than two scrapes, a rule on a metric never
exposed, and every noDataState."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from scanium_e2e.alerts.datasources import load_datasources
from scanium_e2e.alerts.grafana_rules import Evaluation, condition_text, evaluate_rule
from scanium_e2e.alerts.judge import judge_healthy
from scanium_e2e.alerts.loading import load_rules
from scanium_e2e.alerts.model import GrafanaRule, State
from scanium_e2e.alerts.traps import explain_fallback, vector_fallbacks
from scanium_e2e.clients.query import Sample
from scanium_e2e.contract import AlertExpectations
from scanium_e2e.findings import Kind
from tests.alerts.canned_store import CannedStore, up

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def grafana_rule(
    tmp_path: Path, expr: str, *, no_data: str = "NoData", for_: str = "2m"
) -> GrafanaRule:
    """A rule as Scanium writes its '... Down' rules: instant query, reduce last, lt 1."""
    document = {
        "apiVersion": 1,
        "groups": [
            {
                "name": "g",
                "folder": "f",
                "rules": [
                    {
                        "uid": "r",
                        "title": "Backend Down",
                        "condition": "C",
                        "data": [
                            {
                                "refId": "A",
                                "relativeTimeRange": {"from": 300, "to": 0},
                                "datasourceUid": "scanium-mimir",
                                "model": {"expr": expr, "instant": True},
                            },
                            {
                                "refId": "B",
                                "datasourceUid": "__expr__",
                                "model": {"type": "reduce", "expression": "A", "reducer": "last"},
                            },
                            {
                                "refId": "C",
                                "datasourceUid": "__expr__",
                                "model": {
                                    "type": "threshold",
                                    "expression": "B",
                                    "conditions": [{"evaluator": {"type": "lt", "params": [1]}}],
                                },
                            },
                        ],
                        "noDataState": no_data,
                        "for": for_,
                        "labels": {"severity": "page"},
                    }
                ],
            }
        ],
    }
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    (rule,) = load_rules([path]).grafana
    return rule


def evaluation(store: CannedStore) -> Evaluation:
    return Evaluation(store, load_datasources(), scrape_interval_s=1.0)


def test_or_vector_zero_fires_on_a_healthy_pipeline_and_is_named(tmp_path: Path) -> None:
    expr = 'up{job="scanium-backend"} or vector(0)'
    store = CannedStore(
        instant_answers={
            expr: [up(1.0), Sample({}, 0.0)],  # what a store answers: `or` keeps vector(0)'s 0
            'up{job="scanium-backend"}': [up(1.0)],
        }
    )
    rule = grafana_rule(tmp_path, expr)
    state = evaluate_rule(rule, evaluation(store), NOW)
    assert state.state is State.PENDING
    assert [dict(s.labels) for s in state.series] == [{}]
    verdict = judge_healthy(
        [state],
        AlertExpectations(),
        client=store,
        conditions={"Backend Down": condition_text(rule)},
    )
    (finding,) = verdict.findings
    assert (finding.kind, finding.subject) == (Kind.RULE_HOLDS_ON_HEALTHY, "Backend Down")
    assert (
        "a label-less 0 series from `vector(0)` makes `< 1` true even while "
        '`up{job="scanium-backend"}` is 1' in finding.render()
    )


def test_or_on_vector_zero_is_the_idiom_that_works() -> None:
    assert vector_fallbacks('up{job="x"} or on() vector(0)') == []
    assert [f.value for f in vector_fallbacks('(up{job="x"} or vector(0)) < 1')] == [0.0]
    assert explain_fallback(None, 'up{job="x"} or on() vector(0)', [], "< 1", {}) == ""


def test_rate_over_a_window_shorter_than_two_scrapes_is_no_data(tmp_path: Path) -> None:
    # With 1 s scrapes, rate(x[1s]) has at most one sample per window: the store answers
    # nothing, so the rule sees no data, and its noDataState decides.
    expr = 'sum(rate(scanium_assistant_requests_total{job="scanium-backend"}[1s]))'
    store = CannedStore(
        known=[{"__name__": "scanium_assistant_requests_total", "job": "scanium-backend"}]
    )
    state = evaluate_rule(grafana_rule(tmp_path, expr), evaluation(store), NOW)
    assert state.state is State.NO_DATA
    verdict = judge_healthy([state], AlertExpectations(), client=store)
    assert [f.kind for f in verdict.findings] == [Kind.RULE_NO_DATA_ON_HEALTHY]


def test_a_rule_on_a_metric_never_exposed_is_no_data_and_the_metric_is_named(
    tmp_path: Path,
) -> None:
    expr = "scanium_assistant_queue_depth > 100"
    store = CannedStore(known=[{"__name__": "up", "job": "scanium-backend"}])
    state = evaluate_rule(grafana_rule(tmp_path, expr), evaluation(store), NOW)
    assert state.state is State.NO_DATA

    def explain(query: str) -> str:
        from scanium_e2e.verdict.empty_query import explain_empty

        return "; ".join(f.render() for f in explain_empty(store, query, NOW, NOW))

    (finding,) = judge_healthy([state], AlertExpectations(), explain=explain).findings
    assert "`scanium_assistant_queue_depth`: metric never seen" in finding.render()


@pytest.mark.parametrize(
    ("no_data_state", "state"),
    [
        ("NoData", State.NO_DATA),
        ("Alerting", State.PENDING),
        ("OK", State.INACTIVE),
        ("KeepLast", State.INACTIVE),  # a first evaluation keeps Normal
    ],
)
def test_no_data_state_variants(tmp_path: Path, no_data_state: str, state: State) -> None:
    rule = grafana_rule(tmp_path, "absent_metric", no_data=no_data_state)
    assert evaluate_rule(rule, evaluation(CannedStore()), NOW).state is state


def test_alerting_without_for_is_firing(tmp_path: Path) -> None:
    rule = grafana_rule(tmp_path, 'up{job="scanium-backend"}', for_="0s")
    store = CannedStore(instant_answers={'up{job="scanium-backend"}': [up(0.0)]})
    state = evaluate_rule(rule, evaluation(store), NOW)
    assert state.state is State.FIRING
    assert [dict(s.labels) for s in state.series] == [{"job": "scanium-backend"}]


def test_a_store_refusing_the_query_follows_exec_err_state(tmp_path: Path) -> None:
    rule = grafana_rule(tmp_path, "up")
    store = CannedStore(rejected={"up": "query processing would load too many samples"})
    state = evaluate_rule(rule, evaluation(store), NOW)
    assert state.state is State.ERROR and "too many samples" in state.detail


def test_range_queries_expand_grafana_macros_and_step_at_the_scrape_interval(
    tmp_path: Path,
) -> None:
    from scanium_e2e.alerts.grafana_rules import expand_macros

    assert (
        expand_macros(
            "rate(x[$__rate_interval]) / ${__range_s}",
            {"__rate_interval": "4s", "__range_s": "300"},
        )
        == "rate(x[4s]) / 300"
    )
    assert expand_macros("$__unknown", {}) == "$__unknown"
    path = tmp_path / "range.yaml"
    path.write_text(
        "apiVersion: 1\ngroups:\n  - name: g\n    rules:\n      - title: R\n        condition: B\n"
        "        data:\n          - refId: A\n            relativeTimeRange: {from: 600, to: 0}\n"
        "            datasourceUid: scanium-mimir\n"
        "            model: {expr: 'sum(rate(x[$__rate_interval]))', range: true}\n"
        "          - refId: B\n            datasourceUid: __expr__\n"
        "            model: {type: reduce, expression: A, reducer: max}\n",
        encoding="utf-8",
    )
    (rule,) = load_rules([path]).grafana
    store = CannedStore()
    state = evaluate_rule(rule, Evaluation(store, load_datasources(), scrape_interval_s=1.0), NOW)
    assert store.asked == ["sum(rate(x[4s]))"]  # max(1 s + 1 s, 4 x 1 s)
    assert state.state is State.NO_DATA
