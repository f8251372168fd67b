"""A latency rule holding on the healthy stack: the plan, a slow machine, or no slow request
(alerts/slow_run.py), through the Grafana evaluation and the healthy verdict.

The slow-machine case is CI's of 2026-12-07: on a loaded runner one early request took
over 5 s, the Grafana p95 rule (avg over 15 minutes of a p95 over 5m) held, while the
Prometheus rule over the same data did not at the end of the run.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from scanium_e2e.alerts.datasources import load_datasources
from scanium_e2e.alerts.grafana_rules import Evaluation, condition_text, evaluate_rule
from scanium_e2e.alerts.judge import judge_healthy
from scanium_e2e.alerts.loading import load_rules
from scanium_e2e.alerts.model import GrafanaRule, RuleSet, State
from scanium_e2e.alerts.slow_run import (
    Cause,
    LatencyRule,
    RunLatency,
    explanations,
    grafana_latency_rule,
    latency_rules,
    prometheus_latency_rule,
)
from scanium_e2e.clients.query import Series
from scanium_e2e.contract import AlertExpectations, load_contract
from scanium_e2e.findings import Kind
from scanium_e2e.settings import REPO_ROOT
from scanium_e2e.traffic.ledger import Ledger, LedgerEntry
from tests.alerts.canned_store import CannedStore

CONTRACT = load_contract(REPO_ROOT / "fixtures" / "contract.json")
FAMILY = CONTRACT.latency.name
FIXTURE_RULES = REPO_ROOT / "fixtures" / "alerts" / "rules"
GRAFANA_P95 = "Scanium assistant p95 latency high"
NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
P95 = f"histogram_quantile(0.95, sum by (le) (rate({FAMILY}_bucket[5m])))"


def entry(seq: int, delay: int, round_trip: float) -> LedgerEntry:
    return LedgerEntry(
        seq=seq, kind="success", case="c", nonce=f"n{seq}", fault=None,
        planned_input_tokens=120, planned_output_tokens=45, http_status=200, code="",
        error_type="", assistant_error=False, from_cache=False, latency_ms=round_trip,
        retries=0, sent_at=0.0, stub_delay_ms=delay,
    )  # fmt: skip


def run_of(*slow: float) -> RunLatency:
    """Wave 1 as the plan sends it (delays up to 1100 ms, 15 ms of overhead), plus `slow`
    requests of no delay that took that long."""
    delays = [0, 55, 105, 265, 550, 1100, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    entries = [entry(i, d, d + 15.0) for i, d in enumerate(delays)]
    entries += [entry(len(delays) + i, 0, ms) for i, ms in enumerate(slow)]
    ledger = Ledger(run_id="r", provider="openai", base_url="http://b", started_at=0.0,
                    entries=entries)  # fmt: skip
    return RunLatency.of(ledger, CONTRACT)


def fixture_grafana_rule(threshold: float = 5000) -> GrafanaRule:
    (rule,) = [r for r in load_rules([FIXTURE_RULES]).grafana if r.ref.name == GRAFANA_P95]
    if threshold == 5000:
        return rule
    data = list(rule.data)
    model: dict[str, Any] = copy.deepcopy(dict(data[1].model))
    model["conditions"][0]["evaluator"]["params"] = [threshold]
    data[1] = replace(data[1], model=model)
    return replace(rule, data=tuple(data))


def holds_on_healthy(rule: GrafanaRule, p95_points: list[float], run: RunLatency) -> Any:
    """The fixture p95 rule evaluated on a store whose range answer is `p95_points`."""
    expr = str(rule.query("A").model["expr"])  # type: ignore[union-attr]
    points = [(NOW.timestamp() - 60 + i, v) for i, v in enumerate(p95_points)]
    store = CannedStore(range_answers={expr: [Series({}, points)]})
    state = evaluate_rule(rule, Evaluation(store, load_datasources()), NOW)
    assert state.state is State.PENDING, state
    return judge_healthy(
        [state],
        AlertExpectations(),
        client=store,
        conditions={rule.ref.name: condition_text(rule)},
        latency=explanations(RuleSet(grafana=(rule,)), run),
    )


def test_the_fixture_p95_rules_are_latency_rules_above_5000_ms() -> None:
    found = latency_rules(load_rules([FIXTURE_RULES]), FAMILY)
    assert found == {
        "ScaniumAssistantLatencyP95High": LatencyRule(FAMILY, 5000.0),
        GRAFANA_P95: LatencyRule(FAMILY, 5000.0),
    }


@pytest.mark.parametrize(
    "query",
    [
        f"{P95} > bool 5000",  # 0 or 1 on every series: holds regardless
        f"{P95} < 5000",
        f"sum(rate({FAMILY}_sum[5m])) > 5000",  # ms per second: not bounded by one request
        "histogram_quantile(0.95, sum by (le) (rate(other_bucket[5m]))) > 5000",
        f"{P95} > 5000 and on() sum(rate({FAMILY}_count[5m])) > 1",
        f"5000 < {P95}",
    ],
)
def test_a_rule_a_slow_request_does_not_bound_is_left_to_the_plain_verdict(query: str) -> None:
    assert prometheus_latency_rule(query, FAMILY) is None


def test_a_grafana_quantile_reduced_by_a_sum_is_left_to_the_plain_verdict() -> None:
    rule = fixture_grafana_rule()
    data = list(rule.data)
    model: dict[str, Any] = copy.deepcopy(dict(data[1].model))
    model["conditions"][0]["reducer"]["type"] = "sum"
    data[1] = replace(data[1], model=model)
    assert grafana_latency_rule(replace(rule, data=tuple(data)), FAMILY) is None


def test_ci_s_slow_request_makes_the_p95_rule_not_judged_on_this_run() -> None:
    run = run_of(6210.0)
    verdict = holds_on_healthy(fixture_grafana_rule(), [7400.0, 7100.0, 6000.0, 2400.0], run)
    assert verdict.findings == []
    (line,) = verdict.unjudged
    assert line.startswith(
        f"alert rule `{GRAFANA_P95}` holds on the healthy pipeline "
        "({} = 1: avg() of A = 5725 on {}): the machine made this run slower than planned: "
        "1 of the 16 requests the latency histogram observes took longer than 5000 ms "
        "(slowest: #15 success: stub delay 0 ms, round trip 6210 ms) where the plan allows "
        "about 1115 ms; the rule is right to hold, so this run cannot judge it"
    )


def test_a_threshold_the_plan_itself_exceeds_is_a_finding() -> None:
    """The whole-suite proof's copy: 5 (seconds) against milliseconds."""
    rule = fixture_grafana_rule(threshold=5)
    verdict = holds_on_healthy(rule, [120.0, 300.0], run_of(6210.0))
    assert verdict.unjudged == []
    (finding,) = verdict.findings
    assert finding.kind is Kind.RULE_HOLDS_ON_HEALTHY
    assert "the plan's own requests reach above 0 ms" in finding.render()
    assert "threshold 5 ms" in finding.render()


def test_a_latency_rule_holding_without_a_slow_request_is_a_finding_with_that_evidence() -> None:
    verdict = holds_on_healthy(fixture_grafana_rule(), [7400.0, 6000.0], run_of())
    (finding,) = verdict.findings
    assert verdict.unjudged == []
    assert (
        "none of the 15 requests the latency histogram observes took longer than 5000 ms "
        "(the slowest: 1115 ms round trip), so the latency data cannot make it hold"
        in finding.render()
    )


def test_an_unanswered_request_is_slower_than_any_plan() -> None:
    run = run_of(float("inf"))
    explained = run.explain(LatencyRule(FAMILY, 5000.0))
    assert explained is not None and explained.cause is Cause.SLOW_MACHINE
    assert "no answer" in explained.sentence


def test_a_run_in_seconds_is_judged_in_seconds() -> None:
    latency = CONTRACT.latency.model_copy(
        update={"unit": "s", "buckets": tuple(b / 1000 for b in CONTRACT.latency.buckets)}
    )
    seconds = CONTRACT.model_copy(update={"families": {**CONTRACT.families, "latency": latency}})
    ledger = Ledger(run_id="r", provider="openai", base_url="http://b", started_at=0.0,
                    entries=[entry(0, 1100, 1115.0), entry(1, 0, 6210.0)])  # fmt: skip
    run = RunLatency.of(ledger, seconds)
    explained = run.explain(LatencyRule(FAMILY, 5.0))
    assert explained is not None and explained.cause is Cause.SLOW_MACHINE
    assert "took longer than 5 s" in explained.sentence


def test_without_a_ledger_nothing_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "r.yml"
    path.write_text(
        yaml.safe_dump(
            {"groups": [{"name": "g", "rules": [{"alert": "P95", "expr": f"{P95} > 1"}]}]}
        ),
        encoding="utf-8",
    )
    rules = load_rules([path])
    assert explanations(rules, None) == {}
    assert explanations(rules, run_of())["P95"].cause is Cause.PLAN


def test_reaching_a_bucket_bound_needs_a_request_above_the_bound_below_it() -> None:
    """`>= 5000` holds on a p95 of exactly 5000, which requests of 5000 ms or less give."""
    rule = prometheus_latency_rule(f"{P95} >= 5000", FAMILY)
    assert rule == LatencyRule(FAMILY, 5000.0, inclusive=True)
    explained = run_of(4000.0).explain(rule)
    assert explained is not None and explained.cause is Cause.SLOW_MACHINE
    assert "took longer than 2500 ms (the bucket bound below its threshold 5000 ms)" in (
        explained.sentence
    )
