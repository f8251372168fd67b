"""Alert rules on real data: a healthy pipeline pages no one, the seed incident pages
someone, and the page reaches a receiver (README, "Alert rules").

The rules (`--scanium-alert-rules`, default fixtures/alerts/rules) are judged on the session's
healthy stack after its traffic, and on the seed incident stack in the background from the
moment it is ready. Prometheus rule files are evaluated by the store's own ruler; Grafana
rules as Grafana evaluates them. Two proofs of the judgement itself ride along on the same
stacks: a copy of our rules with a noisy rule must be named, and a copy without the rules
that cover the incident must leave the incident unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from scanium_e2e.alerts.judge import ScenarioVerdict, tell_apart
from scanium_e2e.alerts.routing import describe_receivers
from scanium_e2e.alerts.session import (
    NOISY,
    PROOF_NOISY,
    PROOF_UNCOVERED,
    RULES,
    TIGHT_P95,
    AlertSession,
    IncidentOutcome,
)
from scanium_e2e.errors import CheckFailed
from scanium_e2e.findings import Finding, Kind
from scanium_e2e.settings import Settings
from scanium_e2e.stack.compose import ComposeStack
from scanium_e2e.suite_plugin import record_accepted, record_section, record_unjudged
from scanium_e2e.suite_run import Outcome
from scanium_e2e.traffic.run import TrafficRun

pytestmark = pytest.mark.alert_rules


def _publish(config: pytest.Config, session: AlertSession) -> None:
    """The rule x scenario table in the summary, and alerts.json in the artifacts."""
    path = session.write_json()
    spent = ", ".join(f"{key} {value:.2f}" for key, value in session.timings.items())
    record_section(
        config, "alert rules", f"{session.table()}\n(seconds in the session: {spent}; JSON: {path})"
    )


def _fail_on(verdict: ScenarioVerdict) -> None:
    if verdict.findings:
        raise CheckFailed(
            "\n".join(finding.render() for finding in verdict.findings),
            findings=tuple(verdict.findings),
        )


@pytest.fixture(scope="session")
def healthy_verdicts(
    alert_session: AlertSession, traffic: TrafficRun, pytestconfig: pytest.Config
) -> dict[str, ScenarioVerdict]:
    """The healthy verdicts, judged once after the session's traffic was counted."""
    # Requested for its moment (the traffic has been sent and counted) and its ledger.
    found = alert_session.judge_healthy(traffic.ledger)
    _publish(pytestconfig, alert_session)
    return found


@pytest.fixture(scope="session")
def incident_outcome(
    alert_session: AlertSession,
    incident_stack: ComposeStack,
    settings: Settings,
    pytestconfig: pytest.Config,
) -> IncidentOutcome:
    """The incident's verdicts and deliveries, judged in the background."""
    del incident_stack  # requested so that the session starts it
    if alert_session.incident is None:
        pytest.skip("the incident stack is started locally; external mode starts nothing")
    outcome = alert_session.incident_outcome()
    _publish(pytestconfig, alert_session)
    return outcome


def test_no_alert_rule_holds_on_the_healthy_pipeline(
    healthy_verdicts: dict[str, ScenarioVerdict], request: pytest.FixtureRequest
) -> None:
    """No alerting rule's condition holds, none errors or lacks data, every recording rule
    recorded series; rules the contract allows are reported as accepted, a latency rule
    that holds only because the machine made the run slow as not judged on this run."""
    verdict = healthy_verdicts[RULES]
    for line in verdict.accepted:
        record_accepted(request.config, request.node.nodeid, line)
    record_unjudged(request.config, verdict.unjudged)
    _fail_on(verdict)


@pytest.mark.late
def test_a_rule_notices_the_seed_incident(
    incident_outcome: IncidentOutcome, healthy_verdicts: dict[str, ScenarioVerdict]
) -> None:
    """With /metrics answering 403 to Alloy (up is 0), some alerting rule is active that
    is not active on the healthy pipeline: a rule that holds on both is noise, not
    coverage."""
    verdict = incident_outcome.verdicts[RULES]
    findings = tell_apart(verdict, healthy_verdicts[RULES])
    if findings:
        raise CheckFailed("\n".join(f.render() for f in findings), findings=tuple(findings))
    assert verdict.noticed, "no finding, yet no rule noticed the incident"


@pytest.mark.late
@pytest.mark.alertmanager
def test_the_incident_alert_reaches_a_receiver(incident_outcome: IncidentOutcome) -> None:
    """The noticing alert, with its rule's labels, is delivered through the route tree to
    a receiver that pages someone (not only to a receiver without integrations)."""
    deliveries = incident_outcome.deliveries
    assert incident_outcome.verdicts[RULES].noticed, "no rule noticed the incident"
    if any(delivery.paged for delivery in deliveries):
        return
    findings = tuple(
        Finding(
            Kind.ALERT_NOT_ROUTED,
            subject=delivery.alert.get("alertname", ""),
            seen=(
                "reached only " + describe_receivers(delivery.delivered_to, delivery.null_receivers)
                if delivery.delivered_to
                else "reached no receiver"
            ),
            detail=f" (labels {dict(delivery.alert)}; Alertmanager routed it to "
            f"{describe_receivers(delivery.routed_to, delivery.null_receivers)})",
        )
        for delivery in deliveries
    )
    raise CheckFailed("\n".join(f.render() for f in findings), findings=findings)


def _only(verdict: ScenarioVerdict) -> Finding:
    assert len(verdict.findings) == 1, [f.render() for f in verdict.findings]
    return verdict.findings[0]


def test_the_judgement_names_a_noisy_rule(
    healthy_verdicts: dict[str, ScenarioVerdict], settings: Settings
) -> None:
    """Proof: our rules plus `(up or vector(0)) < 1` fail on the healthy stack, naming that
    rule, its query, and the label-less series from vector(0)."""
    if PROOF_NOISY not in healthy_verdicts:
        pytest.skip(
            "the proofs load rules into a stack started locally; external mode starts nothing"
        )
    finding = _only(healthy_verdicts[PROOF_NOISY])
    assert (finding.kind, finding.subject) == (Kind.RULE_HOLDS_ON_HEALTHY, NOISY), finding.render()
    assert "label-less 0 series from `vector(0)`" in finding.detail, finding.render()


@pytest.mark.late
def test_the_judgement_names_the_incident_unnoticed(
    incident_outcome: IncidentOutcome, record_property: Callable[[str, object], None]
) -> None:
    """Proof: our rules without the ones that cover the incident leave it unnoticed, and
    the finding says for how long `up` was 0 and which rule would notice it."""
    verdict = incident_outcome.verdicts[PROOF_UNCOVERED]
    finding = _only(verdict)
    record_property("finding", finding.render())
    assert finding.kind is Kind.INCIDENT_UNNOTICED, finding.render()
    assert finding.expected == 'up{job="scanium-backend"} == 0', finding.render()


@pytest.fixture(scope="session")
def alert_copy_outcome(alert_session: AlertSession) -> Outcome:
    """The whole-suite proof's run (started with the alert session, in the background)."""
    if alert_session.copy_proof is None:
        pytest.skip("the proof starts stacks locally; external mode starts nothing")
    return alert_session.copy_proof.result()


@pytest.mark.late
@pytest.mark.mutation
def test_a_copy_without_the_covering_rules_and_with_a_noisy_rule_fails(
    alert_copy_outcome: Outcome,
) -> None:
    """Proof of the whole suite (`--scanium-mutations`: it starts stacks of its own): `pytest
    e2e/test_alerts.py --scanium-alert-rules <copy>` with our rules minus the two that cover the
    incident, and with the p95 threshold written in seconds (5) for a metric in ms, exits 1:
    the healthy test names both p95 rules, the incident test says no rule notices."""
    outcome = alert_copy_outcome
    assert outcome.code == 1, outcome.output[-3000:]
    healthy = "e2e.test_alerts::test_no_alert_rule_holds_on_the_healthy_pipeline"
    incident = "e2e.test_alerts::test_a_rule_notices_the_seed_incident"
    assert set(outcome.failed) == {healthy, incident}, outcome.output[-3000:]
    assert {(f.kind, f.subject) for f in outcome.findings[healthy]} == {
        (str(Kind.RULE_HOLDS_ON_HEALTHY), name) for name in TIGHT_P95
    }, outcome.texts[healthy]
    assert [f.kind for f in outcome.findings[incident]] == [str(Kind.INCIDENT_UNNOTICED)], (
        outcome.texts[incident]
    )
