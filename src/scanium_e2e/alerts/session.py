"""The alert-rule judgement of one `pytest e2e/` session, over its stacks.

Healthy: the rules go into the session stack's ruler as soon as the stack is ready, so the
ruler has been evaluating them for the whole traffic; after the traffic the verdict waits
only for one evaluation more. Incident: in the background, the moment the incident stack
is ready, the rules go into its ruler (and the Alertmanager config into its Alertmanager),
then the judgement waits for `up` to be 0 and for a rule to notice it. External mode reads
only (no ruler is written to): the healthy verdict from instant queries, no incident.

Two proofs ride along on the same stacks, each in a ruler namespace of its own: our fixture
rules plus a noisy rule (fixtures/alerts/proofs/) on the healthy stack, and our fixture
rules without the rules that cover the incident on the incident stack.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import yaml

from scanium_e2e.alerts.judge import ScenarioVerdict
from scanium_e2e.alerts.model import RuleKind, RuleState, State
from scanium_e2e.alerts.report import document, table
from scanium_e2e.alerts.routing import (
    AlertmanagerClient,
    Delivery,
    alert_labels,
    describe_receivers,
)
from scanium_e2e.alerts.routing import deliver as deliver_alert
from scanium_e2e.alerts.ruler import RulerClient
from scanium_e2e.alerts.scenarios import (
    AlertInputs,
    StoreTarget,
    judge_healthy_on,
    judge_incident_on,
    load_inputs,
)
from scanium_e2e.alerts.slow_run import RunLatency
from scanium_e2e.clients.query import StoreClient
from scanium_e2e.contract import AlertExpectations, Contract
from scanium_e2e.secrets import Masker
from scanium_e2e.settings import REPO_ROOT, Settings
from scanium_e2e.stack import Stack
from scanium_e2e.stack.compose import ComposeStack
from scanium_e2e.suite_run import Outcome, run_pytest
from scanium_e2e.traffic.ledger import Ledger

FIXTURE_RULES = REPO_ROOT / "fixtures" / "alerts" / "rules"
NOISY_RULES = REPO_ROOT / "fixtures" / "alerts" / "proofs" / "noisy.rules.yml"
# Rules shaped like Scanium's own (`or vector(0)` Down rules, no rule on the backend's `up`):
# the alert coverage proof must name the classes they leave unnoticed, and their noise.
SCANIUM_LIKE_RULES = REPO_ROOT / "fixtures" / "alerts" / "proofs" / "scanium-like.rules.yml"
# The rules of FIXTURE_RULES that notice the seed incident; the proof drops them.
COVERING = frozenset(
    {"ScaniumBackendScrapeDown", "Scanium backend scrape down", "ScaniumAssistantMetricsAbsent"}
)
NOISY = "ScaniumBackendDownOrZero"
RULES, PROOF_NOISY, PROOF_UNCOVERED = "rules", "proof-noisy", "proof-uncovered"
SCANIUM_LIKE = "proof-scanium-like"
SINK_PORT = 8080


@dataclass
class IncidentOutcome:
    """The incident stack's verdicts (the user's rules, the uncovered proof) and routing."""

    verdicts: dict[str, ScenarioVerdict]
    deliveries: list[Delivery] = field(default_factory=list)


def _target(
    settings: Settings, stack: Stack, name: str, *, ruler: bool, scrape_job: str = ""
) -> StoreTarget:
    url = stack.endpoints.mimir_url
    client = StoreClient(
        url, prefix=settings.mimir_prefix, tenant=settings.tenant, name=settings.store_kind.product
    )
    return StoreTarget(
        name=name,
        client=client,
        ruler=RulerClient(
            url,
            prefix=settings.mimir_prefix,
            tenant=settings.tenant,
            name=settings.store_kind.product,
        )
        if ruler
        else None,
        scrape_interval_s=settings.scrape_interval_s,
        timeout_s=max(settings.data_timeout_s / 3, 10.0),
        poll_interval_s=settings.poll_interval_s,
        scrape_job=scrape_job,
    )


class AlertSession:
    """Judges the rules on the session's stacks; one per pytest session."""

    def __init__(self, settings: Settings, contract: Contract, masker: Masker) -> None:
        self.settings = settings
        self.contract = contract
        self.masker = masker
        self.inputs = load_inputs(
            settings.alert_rules, settings.datasources, settings.alertmanager_config
        )
        fixtures = load_inputs([FIXTURE_RULES], [])
        noisy = load_inputs([FIXTURE_RULES, NOISY_RULES], [])
        # Each proof shares a ruler with the user's rules: it writes no series of theirs.
        self.proofs: dict[str, AlertInputs] = {
            PROOF_NOISY: replace(noisy, rules=noisy.rules.for_proof(PROOF_NOISY)),
            PROOF_UNCOVERED: AlertInputs(
                fixtures.rules.without(set(COVERING)).for_proof(PROOF_UNCOVERED),
                fixtures.datasources,
            ),
        }
        self.healthy: StoreTarget | None = None
        self.verdicts: dict[str, dict[str, ScenarioVerdict]] = {}
        self.deliveries: list[Delivery] = []
        # Seconds the session's own thread spent on the alert rules (the critical path).
        self.timings: dict[str, float] = {}
        self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="alerts")
        self.incident: Future[IncidentOutcome] | None = None
        self.copy_proof: Future[Outcome] | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None

    @property
    def local(self) -> bool:
        """True when the suite may write rules to the stacks' rulers (stacks it runs)."""
        return not self.settings.external_mode

    def start_healthy(self, stack: Stack) -> None:
        """Load the rules (and the noisy proof) into the session stack's ruler."""
        began = time.monotonic()
        # Judged right after the traffic: an evaluation by query waits for a later scrape.
        self.healthy = _target(
            self.settings, stack, "healthy", ruler=self.local, scrape_job=self.contract.scrape.job
        )
        self.healthy.load(self.inputs.rules, RULES)
        if self.local:
            self.healthy.load(self.proofs[PROOF_NOISY].rules, PROOF_NOISY)
        self.timings["load_s"] = time.monotonic() - began

    def judge_healthy(self, ledger: Ledger | None = None) -> dict[str, ScenarioVerdict]:
        """The healthy verdicts (the user's rules, and the noisy proof on a local stack),
        from evaluations after now (the traffic has been sent and counted); `ledger`, the
        traffic's, tells a slow machine from a latency rule that is wrong."""
        assert self.healthy is not None, "start_healthy first"
        began = time.monotonic()
        after = datetime.now(UTC)
        run = None if ledger is None else RunLatency.of(ledger, self.contract)
        if ledger is not None:
            self.healthy = replace(self.healthy, traffic_ended=ledger.finished_at)
        found = {
            RULES: judge_healthy_on(
                self.healthy,
                self.inputs,
                self.contract.alerts,
                after=after,
                rule_set=RULES,
                run=run,
            )
        }
        if self.local:
            found[PROOF_NOISY] = judge_healthy_on(
                self.healthy,
                self.proofs[PROOF_NOISY],
                self.contract.alerts,
                after=after,
                rule_set=PROOF_NOISY,
                run=run,
            )
        self.verdicts["healthy"] = found
        self.timings["healthy_s"] = time.monotonic() - began
        return found

    def incident_outcome(self) -> IncidentOutcome:
        """The background incident judgement's outcome (waits for it, timed)."""
        assert self.incident is not None, "start_incident first"
        began = time.monotonic()
        try:
            return self.incident.result()
        finally:
            self.timings["incident_wait_s"] = time.monotonic() - began

    def start_incident(self, ready: Callable[[], ComposeStack]) -> None:
        """Judge the incident in the background once `ready()` returns its stack."""
        self.incident = self._pool.submit(self._judge_incident, ready)

    def _judge_incident(self, ready: Callable[[], ComposeStack]) -> IncidentOutcome:
        stack = ready()
        target = _target(self.settings, stack, "incident", ruler=True)
        target.load(self.inputs.rules, RULES)
        target.load(self.proofs[PROOF_UNCOVERED].rules, PROOF_UNCOVERED)
        alertmanager = self._alertmanager(stack)
        job = self.contract.scrape.job
        # The same target: rules both sets hold are evaluated once per second for both.
        uncovered = self._pool.submit(
            judge_incident_on,
            target,
            self.proofs[PROOF_UNCOVERED],
            self.contract.alerts,
            job=job,
            rule_set=PROOF_UNCOVERED,
        )
        main = judge_incident_on(target, self.inputs, self.contract.alerts, job=job, rule_set=RULES)
        outcome = IncidentOutcome({RULES: main, PROOF_UNCOVERED: uncovered.result()})
        if alertmanager is not None and self.inputs.routing is not None:
            try:
                outcome.deliveries = [
                    deliver_alert(
                        alertmanager,
                        self.inputs.routing,
                        labels,
                        {"summary": f"{state.rule.name} noticed the seed incident"},
                        timeout_s=target.timeout_s,
                    )
                    for state, labels in noticing_alerts(main.states)
                ]
            finally:
                alertmanager.close()
        self.verdicts["incident"] = outcome.verdicts
        self.deliveries = outcome.deliveries
        return outcome

    def _alertmanager(self, stack: ComposeStack) -> AlertmanagerClient | None:
        if self.inputs.routing is None:
            return None
        client = AlertmanagerClient(
            stack.endpoints.mimir_url,
            stack.url_of("alert-sink", SINK_PORT),
            tenant=self.settings.tenant,
        )
        client.configure(self.inputs.routing)
        client.wait_ready(timeout_s=max(self.settings.data_timeout_s / 3, 10.0))
        return client

    def start_copy_proof(self) -> None:
        """Run the whole-suite proof on a copy of our rules in the background (in a folder
        removed when the session closes)."""
        self._folder = tempfile.TemporaryDirectory(prefix="scanium-alert-copy-")
        self.copy_proof = self._pool.submit(run_proof_copy, self.settings, Path(self._folder.name))

    def table(self, rule_set: str = RULES) -> str:
        """The rule x scenario table of `rule_set` over the scenarios judged so far."""
        text = table([found[rule_set] for found in self.verdicts.values() if rule_set in found])
        routes = [
            f"routing: `{d.alert.get('alertname', '')}` delivered to "
            f"{describe_receivers(d.delivered_to, d.null_receivers)} (Alertmanager routed it "
            f"to {describe_receivers(d.routed_to, d.null_receivers)})"
            for d in self.deliveries
        ]
        return "\n".join([text, *routes])

    def write_json(self, extra: dict[str, object] | None = None) -> Path:
        """`alerts.json` in the run's artifacts folder (secrets masked); returns the file."""
        folder = self.settings.artifacts_dir / self.settings.run_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "alerts.json"
        verdicts = [found[RULES] for found in self.verdicts.values() if RULES in found]
        data = document(
            verdicts,
            rule_files=[str(p) for p in self.inputs.rules.files],
            skipped=list(self.inputs.rules.skipped),
            timings={key: round(value, 2) for key, value in self.timings.items()},
            routing=[
                {
                    "alert": dict(d.alert),
                    "routed_to": d.routed_to,
                    "delivered_to": d.delivered_to,
                    "null_receivers": sorted(d.null_receivers),
                }
                for d in self.deliveries
            ],
            proofs={
                f"{scenario}/{name}": [f.render() for f in verdict.findings]
                for scenario, found in self.verdicts.items()
                for name, verdict in found.items()
                if name != RULES
            },
            **(extra or {}),
        )
        path.write_text(self.masker.mask(json.dumps(data, indent=2)), encoding="utf-8")
        return path

    def close(self) -> None:
        """Stop the background work (waits for it) and release the clients."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._folder is not None:
            self._folder.cleanup()
        if self.healthy is not None and self.healthy.ruler is not None:
            self.healthy.ruler.close()


def noticing_alerts(states: list[RuleState]) -> list[tuple[RuleState, dict[str, str]]]:
    """One alert per noticing rule: the labels the rule gives its first active series."""
    found = []
    for state in states:
        if state.rule.kind is not RuleKind.ALERTING or not state.noticed:
            continue
        series = state.series[0].labels if state.series else {}
        found.append((state, alert_labels(state.rule.name, state.rule.labels, series)))
    return found


# The copy the whole-suite proof runs: our rules without the covering ones, and with the p95
# latency rules' threshold written in seconds while the metric is in milliseconds (noisy).
TIGHT_P95 = frozenset({"ScaniumAssistantLatencyP95High", "Scanium assistant p95 latency high"})
COPY_SELECTION = "no_alert_rule_holds or notices_the_seed_incident"


def write_proof_copy(folder: Path) -> Path:
    """Our fixture rules, copied into `folder` without the rules that cover the incident
    and with a p95 threshold of 5 (seconds, where the metric counts milliseconds)."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in sorted(FIXTURE_RULES.iterdir()):
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
        for group in data["groups"]:
            kept = []
            for rule in group["rules"]:
                name = rule.get("alert") or rule.get("title")
                if name in COVERING:
                    continue
                if name == "ScaniumAssistantLatencyP95High":
                    rule["expr"] = rule["expr"].replace("> 5000", "> 5")
                if name == "Scanium assistant p95 latency high":
                    rule["data"][1]["model"]["conditions"][0]["evaluator"]["params"] = [5]
                kept.append(rule)
            group["rules"] = kept
        (folder / source.name).write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    return folder


def run_proof_copy(settings: Settings, folder: Path) -> Outcome:
    """`pytest e2e/test_alerts.py --scanium-alert-rules <copy>` (its healthy and incident tests),
    in a subprocess that starts stacks of its own; read from its JUnit."""
    copy = write_proof_copy(folder / "rules")
    return run_pytest(
        ["e2e/test_alerts.py"],
        folder,
        {"SCANIUM_E2E_RUN_ID": f"{settings.run_id}-alert-copy"},
        "--scanium-alert-rules",
        str(copy),
        "-k",
        COPY_SELECTION,
    )


def judge_on_variant(stack: ComposeStack, inputs: AlertInputs, name: str) -> ScenarioVerdict:
    """The rules on a mutation variant's stack (`pytest e2e/ --scanium-mutations`), right after the
    suite ran against it: read-only through the store's query API, as `scanium-e2e alerts`
    judges an existing store (no ruler is loaded, so a rule whose condition holds is
    pending). Which rules notice which broken variant is reported, not judged: the default
    expectations hold only for the healthy and the incident stacks."""
    target = _target(stack.settings, stack, name, ruler=False)
    try:
        verdict = judge_healthy_on(target, inputs, AlertExpectations(), after=datetime.now(UTC))
    finally:
        if isinstance(target.client, StoreClient):
            target.client.close()
    verdict.name = name
    return verdict


def variants_report(verdicts: list[ScenarioVerdict]) -> str:
    """One line per variant: the alerting rules whose condition holds on its stack, or that
    none does (a broken pipeline no rule notices)."""
    lines = []
    for verdict in verdicts:
        noticed = [f"{state.rule.name} ({state.state})" for state in verdict.noticed]
        errors = [f"{s.rule.name}: {s.cell()}" for s in verdict.states if s.state is State.ERROR]
        said = ", ".join(noticed) if noticed else "no alerting rule's condition holds"
        erred = f"; errors: {'; '.join(errors)}" if errors else ""
        lines.append(f"{verdict.name}: {said}{erred}")
    return "\n".join(lines)
