"""The verdicts: the ruler's answer mapped to rules, the healthy and incident judgements,
the contract's expectations."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanium_e2e.alerts.judge import judge_healthy, judge_incident, must_fire, tell_apart
from scanium_e2e.alerts.loading import load_rules
from scanium_e2e.alerts.model import PROOF_LABEL, RuleState, State
from scanium_e2e.alerts.prometheus_rules import ruler_states
from scanium_e2e.alerts.ruler import LoadedGroup, namespace_of, parse_time
from scanium_e2e.contract import AlertExpectations, parse_contract
from scanium_e2e.errors import ConfigurationError
from scanium_e2e.findings import Kind
from scanium_e2e.settings import REPO_ROOT

RULES = """groups:
  - name: pipeline
    rules:
      - alert: Down
        expr: (up{job="scanium-backend"} or vector(0)) < 1
        for: 2m
        labels: {severity: page}
      - alert: Down
        expr: up{job="scanium-backend"} == 0
      - record: job:up:sum
        expr: sum(up)
"""


def api_rule(state: str, alerts: list[dict[str, object]], health: str = "ok") -> dict[str, object]:
    """A rule as Cortex v1.21's GET /prometheus/api/v1/rules lists it."""
    return {"state": state, "alerts": alerts, "health": health, "lastError": "", "type": "alerting"}


def test_ruler_answer_maps_to_rules_by_group_and_position(tmp_path: Path) -> None:
    path = tmp_path / "r.yml"
    path.write_text(RULES, encoding="utf-8")
    (group,) = load_rules([path]).prometheus
    zero: dict[str, object] = {
        "labels": {"alertname": "Down", "severity": "page"},
        "state": "pending",
        "value": "0e+00",
    }
    loaded = {
        (namespace_of("rules", group), "pipeline"): LoadedGroup(
            namespace_of("rules", group),
            "pipeline",
            (
                api_rule("pending", [zero]),
                api_rule("inactive", []),
                {"health": "err", "lastError": "many-to-many matching", "type": "recording"},
            ),
            parse_time("2026-12-03T21:08:00.256122717Z"),
        )
    }
    states = ruler_states("rules", [group], loaded)
    assert [s.state for s in states] == [State.PENDING, State.INACTIVE, State.ERROR]
    assert states[0].series[0].value == 0.0 and dict(states[0].series[0].labels) == {
        "severity": "page"
    }
    assert states[2].detail == "many-to-many matching"
    # The pending alert is label-less but for the rule's own labels: vector(0)'s 0.
    (finding, error) = judge_healthy(states, AlertExpectations()).findings
    assert finding.kind is Kind.RULE_HOLDS_ON_HEALTHY
    assert "a label-less 0 series from `vector(0)` makes `< 1` true" in finding.detail
    assert error.kind is Kind.RULE_ERRORS


def test_parse_time_reads_nanoseconds_and_zero() -> None:
    moment = parse_time("2026-12-03T21:08:00.256122717Z")
    assert moment is not None and moment.microsecond == 256122
    assert parse_time("0001-01-01T00:00:00Z") is None


def states_of(tmp_path: Path, *pairs: tuple[str, State]) -> list[RuleState]:
    text = "groups:\n  - name: g\n    rules:\n" + "".join(
        f"      - alert: {name}\n        expr: up == 0\n" for name, _ in pairs
    )
    path = tmp_path / "s.yml"
    path.write_text(text, encoding="utf-8")
    refs = load_rules([path]).rules
    return [RuleState(ref, state) for ref, (_, state) in zip(refs, pairs, strict=True)]


def test_the_incident_unnoticed_says_how_long_and_what_would_notice(tmp_path: Path) -> None:
    states = states_of(tmp_path, ("A", State.INACTIVE), ("B", State.INACTIVE))
    verdict = judge_incident(
        states,
        AlertExpectations(),
        up_query='up{job="scanium-backend"}',
        zero_for_s=12.4,
        suggestion='up{job="scanium-backend"} == 0',
    )
    (finding,) = verdict.findings
    assert finding.render() == (
        'no rule tells the seed incident apart from health: `up{job="scanium-backend"}` was 0 '
        "for 12 s; 2 judged rule(s) stayed inactive; a rule that would notice it: "
        '`up{job="scanium-backend"} == 0`'
    )
    noticed = judge_incident(
        states_of(tmp_path, ("A", State.PENDING)),
        AlertExpectations(),
        up_query="up",
        zero_for_s=1,
        suggestion="up == 0",
    )
    assert not noticed.findings


def test_contract_allows_and_requires_rules_by_name(tmp_path: Path) -> None:
    states = states_of(tmp_path, ("ErrorRate", State.PENDING), ("Down", State.INACTIVE))
    expectations = AlertExpectations(
        must_fire={"incident": ("Down", "Missing")},
        allowed_on_healthy={"ErrorRate": "the traffic injects failures", "Gone": "x"},
    )
    healthy = judge_healthy(states, expectations)
    assert not healthy.findings
    assert healthy.accepted and healthy.accepted[0].startswith("accepted by contract: ")
    assert healthy.notes == [
        "the contract allows `Gone` to fire on a healthy pipeline, but no rule file defines it"
    ]
    missing = must_fire(states, expectations, "incident")
    assert [(f.kind, f.subject, f.seen) for f in missing] == [
        (Kind.RULE_DID_NOT_FIRE, "Down", "inactive"),
        (Kind.RULE_DID_NOT_FIRE, "Missing", "not defined in the rule files"),
    ]


def test_recording_rule_without_series_is_named(tmp_path: Path) -> None:
    path = tmp_path / "r.yml"
    path.write_text(RULES, encoding="utf-8")
    record = load_rules([path]).rules[2]
    (finding,) = judge_healthy([RuleState(record, State.NO_SERIES)], AlertExpectations()).findings
    assert (finding.kind, finding.subject) == (Kind.RECORDING_EMPTY, "job:up:sum")


def test_contract_alerts_section_is_strict() -> None:
    base = {
        "metrics": {
            role: {"name": f"m_{role}", "type": "counter", "labels": ["a"]}
            for role in ("requests", "tokens", "errors")
        }
        | {"latency": {"name": "l_ms", "type": "histogram", "labels": ["a"]}},
    }
    contract = parse_contract(
        {
            **base,
            "alerts": {"must_fire": {"incident": ["Down"]}, "allowed_on_healthy": {"E": "why"}},
        }
    )
    assert contract.alerts.must_fire == {"incident": ("Down",)}
    with pytest.raises(ConfigurationError, match=r"unknown field `alerts\.must_fire\.outage`"):
        parse_contract({**base, "alerts": {"must_fire": {"outage": ["Down"]}}})
    with pytest.raises(ConfigurationError, match="allowed_on_healthy"):
        parse_contract({**base, "alerts": {"allowed_on_healthy": {"E": ""}}})


def test_the_fixture_contract_accepts_only_rules_our_fixtures_define() -> None:
    from scanium_e2e.contract import load_contract

    contract = load_contract(REPO_ROOT / "fixtures" / "contract.json")
    names = {r.name for r in load_rules([REPO_ROOT / "fixtures" / "alerts" / "rules"]).rules}
    assert set(contract.alerts.allowed_on_healthy) <= names


def test_a_copy_without_rules_renumbers_the_rules_it_keeps(tmp_path: Path) -> None:
    path = tmp_path / "r.yml"
    path.write_text(RULES, encoding="utf-8")
    (group,) = load_rules([path]).without({"Down"}).prometheus
    assert [(r.name, r.index) for r in group.rules] == [("job:up:sum", 0)]
    assert [r.get("record") for r in group.document["rules"]] == ["job:up:sum"]


def test_a_proof_writes_no_series_the_user_s_rules_write(tmp_path: Path) -> None:
    """Two groups writing one series make the store discard samples as out of order (CI:
    the user's rules and a proof copy of them in one ruler, hop 4 then blamed the pipeline)."""
    path = tmp_path / "r.yml"
    path.write_text(RULES, encoding="utf-8")
    (group,) = load_rules([path]).for_proof("proof-x").prometheus
    assert [(r.name, r.index, dict(r.labels)) for r in group.rules] == [
        ("Down", 0, {"severity": "page", PROOF_LABEL: "proof-x"}),
        ("Down", 1, {PROOF_LABEL: "proof-x"}),
    ]
    assert [(d.get("alert"), d["labels"]) for d in group.document["rules"]] == [
        ("Down", {"severity": "page", PROOF_LABEL: "proof-x"}),
        ("Down", {PROOF_LABEL: "proof-x"}),
    ]


def test_no_fixture_alert_reads_a_recorded_series_so_proofs_may_drop_recordings() -> None:
    from scanium_e2e.alerts.session import FIXTURE_RULES, NOISY_RULES

    assert load_rules([FIXTURE_RULES, NOISY_RULES]).recorded_reads() == []


def test_an_alert_over_a_recorded_series_is_named(tmp_path: Path) -> None:
    path = tmp_path / "r.yml"
    path.write_text(
        "groups:\n- name: g\n  rules:\n  - record: job:up:sum\n    expr: sum(up)\n"
        "  - alert: Low\n    expr: job:up:sum < 1\n",
        encoding="utf-8",
    )
    assert [(r.name, n) for r, n in load_rules([path]).recorded_reads()] == [("Low", "job:up:sum")]


def test_a_delivery_pages_only_through_a_receiver_with_integrations() -> None:
    from scanium_e2e.alerts.routing import Delivery, describe_receivers

    null = frozenset({"blackhole"})
    assert Delivery({}, ["blackhole"], ["blackhole"], null).paged == []
    assert Delivery({}, ["oncall", "blackhole"], ["blackhole", "oncall"], null).paged == ["oncall"]
    assert describe_receivers(["blackhole"], null) == "blackhole (null receiver)"
    assert describe_receivers([], null) == "no receiver"


def test_a_rule_holding_on_health_too_is_noise_not_noticing(tmp_path: Path) -> None:
    """Scanium's `or vector(0)` Down rules hold on the incident and on the healthy pipeline:
    they do not count as noticing it; rules that could not be judged are counted apart."""
    incident = judge_incident(
        states_of(
            tmp_path, ("Down", State.PENDING), ("Quiet", State.INACTIVE), ("Loki", State.ERROR)
        ),
        AlertExpectations(),
        up_query="up",
        zero_for_s=9,
        suggestion="up == 0",
    )
    assert not incident.findings  # before health is known, Down counts
    healthy = judge_healthy(states_of(tmp_path, ("Down", State.PENDING)), AlertExpectations())
    (finding,) = tell_apart(incident, healthy)
    assert finding.kind is Kind.INCIDENT_UNNOTICED
    text = finding.render()
    assert "`Down` holds on it and on the healthy pipeline alike (noise, not coverage)" in text
    assert "1 judged rule(s) stayed inactive" in text and "1 rule(s) could not be judged" in text
    assert "every rule stayed inactive" not in text
    quiet_healthy = judge_healthy(
        states_of(tmp_path, ("Down", State.INACTIVE)), AlertExpectations()
    )
    assert tell_apart(incident, quiet_healthy) == []
