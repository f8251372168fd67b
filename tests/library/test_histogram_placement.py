"""Where observations land: intervals from the ledger, judged bucket by bucket, no Docker."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest

from scanium_e2e.checks.histograms import (
    Expected,
    Histogram,
    judge,
    latency_expectations,
    misplaced_finding,
    scale_hint,
    selector_of,
    token_expectations,
)
from scanium_e2e.contract import load_contract, parse_contract
from scanium_e2e.errors import ConfigurationError
from scanium_e2e.findings import Kind
from scanium_e2e.settings import REPO_ROOT
from scanium_e2e.traffic.ledger import Ledger, LedgerEntry
from scanium_e2e.traffic.plan import TrafficPlan, probe_delays_ms
from scanium_e2e.traffic.shapes import build_requests

CONTRACT = load_contract(REPO_ROOT / "fixtures" / "contract.json")
BOUNDS = CONTRACT.latency.buckets
OK = ("openai", "success")
ERR = ("openai", "error")


def entry(seq: int, kind: str, delay: int, round_trip: float, **extra: Any) -> LedgerEntry:
    values: dict[str, Any] = {
        "seq": seq, "kind": kind, "case": "c", "nonce": f"n{seq}", "fault": None,
        "planned_input_tokens": 120 if kind == "success" else None,
        "planned_output_tokens": 45 if kind == "success" else None,
        "http_status": 200, "code": "", "error_type": "",
        "assistant_error": kind == "provider_error", "from_cache": False,
        "latency_ms": round_trip, "retries": 0, "sent_at": 0.0, "stub_delay_ms": delay,
    }  # fmt: skip
    values.update(extra)
    return LedgerEntry(**values)


def ledger(*entries: LedgerEntry) -> Ledger:
    return Ledger(run_id="r", provider="openai", base_url="http://b", started_at=0.0,
                  entries=list(entries))  # fmt: skip


RUN = ledger(
    entry(0, "success", 0, 12.0),
    entry(1, "success", 55, 70.0),
    entry(2, "success", 115, 130.0),
    entry(3, "success", 275, 290.0),
    entry(4, "success", 550, 570.0),
    entry(5, "provider_error", 115, 140.0),
    entry(6, "validation_error", 0, 3.0, http_status=400),
)


def store_of(values: dict[tuple[str, ...], list[float]]) -> Histogram:
    """What a correct backend would show for these observed values."""
    buckets = {
        key: {le: float(sum(1 for v in observed if v <= le)) for le in (*BOUNDS, math.inf)}
        for key, observed in values.items()
    }
    return Histogram(buckets, {key: sum(observed) for key, observed in values.items()})


def test_probe_delays_land_one_request_in_each_bucket_up_to_a_second() -> None:
    assert probe_delays_ms(BOUNDS) == (55, 115, 275, 550)
    assert probe_delays_ms([0.05 * 1000, 0.1 * 1000]) == (55,)
    assert probe_delays_ms([2000, 5000]) == ()


def test_the_plan_puts_each_delay_into_its_request_and_not_the_probe() -> None:
    plan = TrafficPlan(api_key="k", run_id="r", successes=3, provider_errors=2,
                       success_delays_ms=(55, 115), error_delays_ms=(275,))  # fmt: skip
    requests = build_requests(plan)
    delays = {(r.kind, r.delay_ms) for r in requests if r.kind in ("success", "provider_error")}
    assert requests[0].delay_ms == 0
    assert delays == {("success", 0), ("success", 55), ("success", 115),
                      ("provider_error", 275), ("provider_error", 0)}  # fmt: skip
    delayed = [r for r in requests if r.delay_ms]
    assert all(f"[[stub:delay_ms={r.delay_ms}]]".encode() in (r.content or b"") for r in delayed)


def test_a_delay_the_stub_cannot_give_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="success_delays_ms"):
        TrafficPlan(api_key="k", run_id="r", success_delays_ms=(700_000,))


def test_latency_intervals_run_from_the_stub_delay_to_the_round_trip() -> None:
    expected = latency_expectations(RUN, CONTRACT, delays_hold=True)
    assert [(o.key, o.low) for o in expected] == [
        (OK, 0.0), (OK, 55.0), (OK, 115.0), (OK, 275.0), (OK, 550.0), (ERR, 115.0)
    ]  # fmt: skip
    assert expected[3].high == pytest.approx(290.0, abs=0.01)
    # Against a deployment's own LLM only the round trip bounds an observation.
    assert {o.low for o in latency_expectations(RUN, CONTRACT, delays_hold=False)} == {0.0}


def test_an_answer_faster_than_its_delay_keeps_only_the_round_trip_bound() -> None:
    (observation,) = latency_expectations(
        ledger(entry(0, "success", 550, 9.0)), CONTRACT, delays_hold=True
    )
    assert observation.low == 0.0


def test_a_contract_in_seconds_scales_the_intervals() -> None:
    data = json.loads((REPO_ROOT / "fixtures" / "contract.json").read_text())
    data["metrics"]["latency"] = {**data["metrics"]["latency"], "name": "x_latency_seconds",
                                  "buckets": [0.05, 0.1, 0.25, 0.5, 1]}  # fmt: skip
    del data["metrics"]["latency"]["unit"]
    seconds = parse_contract(data)
    assert seconds.latency.unit == "s"
    lows = [o.low for o in latency_expectations(RUN, seconds, delays_hold=True)]
    assert lows == [0.0, 0.055, 0.115, 0.275, 0.55, 0.115]


def test_a_latency_name_without_its_unit_needs_one() -> None:
    data = json.loads((REPO_ROOT / "fixtures" / "contract.json").read_text())
    broken = copy.deepcopy(data)
    broken["metrics"]["latency"]["name"] = "x_latency"
    del broken["metrics"]["latency"]["unit"]
    with pytest.raises(ConfigurationError, match=r"metrics.latency.unit"):
        parse_contract(broken)
    broken["metrics"]["latency"]["unit"] = "minutes"
    with pytest.raises(ConfigurationError, match="'minutes'"):
        parse_contract(broken)
    other = copy.deepcopy(data)
    other["metrics"]["tokens"]["unit"] = "ms"
    with pytest.raises(ConfigurationError, match=r"metrics.tokens.unit"):
        parse_contract(other)


def test_a_correct_backend_passes() -> None:
    expected = latency_expectations(RUN, CONTRACT, delays_hold=True)
    store = store_of({OK: [8.0, 62.0, 120.0, 280.0, 560.0], ERR: [133.0]})
    placement = judge(store, expected, BOUNDS, exact=True, judge_sum=True)
    assert placement.holds and len(placement.judged) == 2 and not placement.unjudged


def test_seconds_for_milliseconds_fails_with_the_scale_named() -> None:
    expected = latency_expectations(RUN, CONTRACT, delays_hold=True)
    store = store_of({OK: [0.008, 0.062, 0.12, 0.28, 0.56], ERR: [0.133]})
    placement = judge(store, expected, BOUNDS, exact=True, judge_sum=True)
    assert not placement.holds
    finding = misplaced_finding(placement, CONTRACT.latency.name, ("provider", "status"), "ms")
    assert finding.kind == Kind.OBSERVATIONS_MISPLACED and finding.hop == 5
    text = finding.render()
    assert 'status="error",le="50"}` rose by 1, where the requests the ledger sent allow' in text
    assert "1000 times too small: seconds recorded where the contract says ms?" in text


def test_microseconds_fail_on_the_round_trip_bound() -> None:
    expected = latency_expectations(RUN, CONTRACT, delays_hold=False)
    store = store_of({OK: [v * 1000 for v in (8.0, 62.0, 120.0, 280.0, 560.0)], ERR: [133000.0]})
    placement = judge(store, expected, BOUNDS, exact=False)
    assert {m.le for m in placement.misplaced} >= {1000.0}
    assert all(m.seen < m.least for m in placement.misplaced)


def test_a_failure_counted_as_success_is_judged_pooled_not_failed() -> None:
    expected = latency_expectations(RUN, CONTRACT, delays_hold=True)
    store = store_of({OK: [8.0, 62.0, 120.0, 280.0, 560.0, 133.0]})
    placement = judge(store, expected, BOUNDS, exact=True, judge_sum=True)
    assert placement.holds
    assert [group.pooled for group in placement.judged] == [True]


def test_counts_the_ledger_cannot_explain_are_left_to_the_count_checks() -> None:
    expected = latency_expectations(RUN, CONTRACT, delays_hold=True)
    store = store_of({OK: [8.0, 62.0, 120.0, 280.0, 560.0, 3.0, 4.0], ERR: [133.0]})
    placement = judge(store, expected, BOUNDS, exact=True, judge_sum=True)
    assert placement.holds
    assert [group.keys for group in placement.judged] == [(ERR,)]
    assert [group.keys for group in placement.unjudged] == [(OK,)]


def test_a_shared_store_judges_only_the_least() -> None:
    expected = latency_expectations(RUN, CONTRACT, delays_hold=False)
    others = [1.0] * 50
    store = store_of({OK: [8.0, 62.0, 120.0, 280.0, 560.0, *others], ERR: [133.0]})
    assert judge(store, expected, BOUNDS, exact=False).holds


def test_bounds_the_store_lacks_are_the_bounds_checks_business() -> None:
    expected = [Expected(OK, 0.0, 12.0)]
    store = Histogram({OK: {50.0: 1.0, 60000.0: 1.0, math.inf: 1.0}})
    assert judge(store, expected, BOUNDS, exact=True).holds


def test_token_observations_are_exact() -> None:
    expected = token_expectations(RUN, CONTRACT)
    assert {(o.key, o.low, o.high) for o in expected} == {
        (("openai", "input"), 120.0, 120.0),
        (("openai", "output"), 45.0, 45.0),
        (("openai", "total"), 165.0, 165.0),
    }
    assert len(expected) == 15
    right = Histogram({
        ("openai", "input"): {50.0: 0.0, 100.0: 0.0, 250.0: 5.0, math.inf: 5.0},
        ("openai", "output"): {50.0: 5.0, math.inf: 5.0},
        ("openai", "total"): {100.0: 0.0, 250.0: 5.0, math.inf: 5.0},
    })  # fmt: skip
    assert judge(right, expected, CONTRACT.tokens.buckets, exact=True).holds
    swapped = Histogram({**right.buckets, ("openai", "output"): {50.0: 0.0, math.inf: 5.0}})
    (off,) = judge(swapped, expected, CONTRACT.tokens.buckets, exact=True).misplaced
    assert (off.le, off.seen, off.least, off.most) == (50.0, 0.0, 5, 5)


def test_selectors_and_hints_read_as_promql_and_plain_words() -> None:
    assert selector_of("m_bucket", ("provider", "status"), [OK, ERR], math.inf) == (
        'm_bucket{provider="openai",status=~"error|success",le="+Inf"}'
    )
    assert scale_hint(1.0, 900.0, 1100.0, "ms").startswith("about 1000 times too small")
    assert scale_hint(1000.0, 0.9, 1.1, "s").startswith("about 1000 times too large")
    assert scale_hint(500.0, 900.0, 1100.0, "ms") == ""
