"""The verdict on a scenario's rule states: what users expect by default, and the contract.

- Healthy: no alerting rule's condition may hold (a finding names the rule, its query, the
  series that make it hold and, for the classic traps, why); a rule that errors, a Grafana
  rule without data that would send DatasourceNoData, and a recording rule that wrote no
  series after the traffic are findings too. The contract's `alerts.allowed_on_healthy`
  accepts named rules, each reported as "accepted by contract". A rule over a latency
  quantile that holds because the machine made this run's requests slower than planned is
  "not judged on this run", naming the requests (slow_run.py); the run's latency is
  evidence in the finding otherwise.
- Incident: at least one alerting rule must notice it: hold (pending or firing) on the
  incident and not on the healthy pipeline (a rule that holds on both is noise, not
  coverage); else a finding saying how long `up` was 0, the noise, the rules that could not
  be judged (counted apart, never said to have stayed inactive) and the rule that would.
- Either: the contract's `alerts.must_fire.<scenario>` names rules that must be active.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from scanium_e2e.alerts.model import RuleFormat, RuleKind, RuleState, State
from scanium_e2e.alerts.slow_run import Cause, Explanation
from scanium_e2e.alerts.traps import comparison_of, explain_fallback
from scanium_e2e.contract import AlertExpectations
from scanium_e2e.findings import Finding, Kind
from scanium_e2e.verdict.empty_query import QueryClient

# Says why a query is empty (verdict/empty_query.py), or "" when it cannot.
Explainer = Callable[[str], str]


@dataclass(frozen=True)
class IncidentFacts:
    """What the incident's judgement saw, to say it again once health is known."""

    up_query: str
    zero_for_s: float
    suggestion: str


@dataclass
class ScenarioVerdict:
    """One scenario's rule states, findings and accepted deviations."""

    name: str
    states: list[RuleState]
    findings: list[Finding] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Rules this run cannot judge (the machine made the healthy run slow), each a sentence.
    unjudged: list[str] = field(default_factory=list)
    # The incident's facts (judge_incident), for `tell_apart`.
    incident: IncidentFacts | None = None

    @property
    def noticed(self) -> list[RuleState]:
        """The alerting rules whose condition holds."""
        return [s for s in self.states if s.rule.kind is RuleKind.ALERTING and s.noticed]

    def as_dict(self) -> dict[str, object]:
        """The verdict as JSON data."""
        return {
            "scenario": self.name,
            "rules": [state.as_dict() for state in self.states],
            "findings": [
                {"kind": str(f.kind), "subject": f.subject, "text": f.render()}
                for f in self.findings
            ],
            "accepted": self.accepted,
            "notes": self.notes,
            "not_judged_on_this_run": self.unjudged,
        }


def _series_text(state: RuleState) -> str:
    if not state.series:
        return state.detail or "its condition"
    shown = "; ".join(s.describe() for s in state.series[:4])
    more = f" (+{len(state.series) - 4} more)" if len(state.series) > 4 else ""
    # A classic condition's 1 says little: its matches say which value met it.
    why = f": {state.detail}" if state.detail else ""
    return shown + more + why


def _condition(state: RuleState, conditions: dict[str, str]) -> str:
    if state.rule.format is RuleFormat.GRAFANA:
        return conditions.get(state.rule.name, "")
    return comparison_of(state.rule.query)


def judge_healthy(
    states: Sequence[RuleState],
    expectations: AlertExpectations,
    *,
    client: QueryClient | None = None,
    explain: Explainer | None = None,
    conditions: dict[str, str] | None = None,
    latency: Mapping[str, Explanation] | None = None,
) -> ScenarioVerdict:
    """The healthy scenario: nothing may hold, error, lack data or record nothing.
    `latency`: why each latency rule would hold, by the run's ledger (slow_run.py)."""
    verdict = ScenarioVerdict("healthy", list(states))
    allowed = expectations.allowed_on_healthy
    for state in states:
        rule = state.rule
        if rule.kind is RuleKind.ALERTING and state.noticed:
            if rule.name in allowed:
                verdict.accepted.append(
                    f"accepted by contract: alert rule `{rule.name}` holds on a healthy "
                    f"pipeline ({_series_text(state)}): {allowed[rule.name]}"
                )
                continue
            slowness = (latency or {}).get(rule.name)
            if slowness is not None and slowness.cause is Cause.SLOW_MACHINE:
                verdict.unjudged.append(
                    f"alert rule `{rule.name}` holds on the healthy pipeline "
                    f"({_series_text(state)}): {slowness.sentence}"
                )
                continue
            trap = explain_fallback(
                client,
                rule.query,
                state.series,
                _condition(state, conditions or {}),
                rule.labels,
                match_value=rule.format is RuleFormat.PROMETHEUS,
            )
            verdict.findings.append(
                Finding(
                    Kind.RULE_HOLDS_ON_HEALTHY,
                    subject=rule.name,
                    expected=rule.query,
                    seen=_series_text(state),
                    detail=trap or (f"; {slowness.sentence}" if slowness is not None else ""),
                )
            )
        elif state.state is State.NO_DATA:
            why = explain(rule.query) if explain and rule.query else ""
            verdict.findings.append(
                Finding(
                    Kind.RULE_NO_DATA_ON_HEALTHY,
                    subject=rule.name,
                    expected=rule.query,
                    detail=why or "returns nothing",
                )
            )
        elif state.state is State.ERROR:
            verdict.findings.append(
                Finding(Kind.RULE_ERRORS, subject=rule.name, seen="healthy", detail=state.detail)
            )
        elif state.state is State.NO_SERIES:
            why = explain(rule.query) if explain else ""
            verdict.findings.append(
                Finding(
                    Kind.RECORDING_EMPTY,
                    subject=rule.name,
                    expected=rule.query,
                    detail=f": {why}" if why else "",
                )
            )
    verdict.findings.extend(must_fire(states, expectations, "healthy"))
    verdict.notes.extend(unused_allowances(states, expectations))
    return verdict


def judge_incident(
    states: Sequence[RuleState],
    expectations: AlertExpectations,
    *,
    up_query: str,
    zero_for_s: float,
    suggestion: str,
    healthy_holding: Collection[str] = (),
) -> ScenarioVerdict:
    """The seed incident: some alerting rule must notice it, holding on it and not among
    `healthy_holding` (the rules that hold on the healthy pipeline)."""
    verdict = ScenarioVerdict("incident", list(states))
    verdict.incident = IncidentFacts(up_query, zero_for_s, suggestion)
    verdict.findings.extend(_unnoticed(verdict, healthy_holding))
    verdict.findings.extend(must_fire(states, expectations, "incident"))
    return verdict


def tell_apart(incident: ScenarioVerdict, healthy: ScenarioVerdict) -> list[Finding]:
    """The incident's findings once the healthy verdict is known: a rule that holds on
    both is noise, so if only such rules hold, no rule noticed the incident."""
    holding = {state.rule.name for state in healthy.noticed}
    others = [f for f in incident.findings if f.kind is not Kind.INCIDENT_UNNOTICED]
    return [*_unnoticed(incident, holding), *others]


def _unnoticed(verdict: ScenarioVerdict, healthy_holding: Collection[str]) -> list[Finding]:
    facts = verdict.incident
    assert facts is not None
    noticing = [s for s in verdict.noticed if s.rule.name not in healthy_holding]
    if noticing:
        return []
    noise = [s.rule.name for s in verdict.noticed]
    blind = [
        s for s in verdict.states if s.state in (State.ERROR, State.NO_DATA, State.UNSUPPORTED)
    ]
    judged = [s for s in verdict.states if s.rule.kind is RuleKind.ALERTING and s not in blind]
    parts = []
    if noise:
        parts.append(
            f"{', '.join(f'`{name}`' for name in noise)} "
            f"{'holds' if len(noise) == 1 else 'hold'} on it and on the healthy pipeline "
            "alike (noise, not coverage)"
        )
    quiet = [s for s in judged if not s.noticed]
    if quiet:
        parts.append(f"{len(quiet)} judged rule(s) stayed inactive")
    if blind:
        parts.append(
            f"{len(blind)} rule(s) could not be judged: "
            + "; ".join(f"`{s.rule.name}` {s.cell()}" for s in blind[:3])
            + (f" and {len(blind) - 3} more" if len(blind) > 3 else "")
        )
    return [
        Finding(
            Kind.INCIDENT_UNNOTICED,
            subject=facts.up_query,
            seen=f"{facts.zero_for_s:.0f} s",
            expected=facts.suggestion,
            detail="; ".join(parts) or "no alerting rule is defined",
        )
    ]


def must_fire(
    states: Sequence[RuleState], expectations: AlertExpectations, scenario: str
) -> list[Finding]:
    """A finding for each rule the contract requires active on `scenario` that is not."""
    findings = []
    for name in expectations.must_fire.get(scenario, ()):
        matching = [s for s in states if s.rule.name == name]
        if any(s.noticed for s in matching):
            continue
        seen = "; ".join(s.cell() for s in matching) or "not defined in the rule files"
        findings.append(Finding(Kind.RULE_DID_NOT_FIRE, subject=name, expected=scenario, seen=seen))
    return findings


def unused_allowances(states: Sequence[RuleState], expectations: AlertExpectations) -> list[str]:
    """Allowances of the contract that name no loaded rule (said, never an error)."""
    names = {s.rule.name for s in states}
    return [
        f"the contract allows `{name}` to fire on a healthy pipeline, but no rule file defines it"
        for name in expectations.allowed_on_healthy
        if name not in names
    ]
