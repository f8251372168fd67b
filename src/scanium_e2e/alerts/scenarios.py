"""Judging alert rules on a store: load them, wait for the answer, say what it means.

Orchestration above the parts (ruler.py, grafana_rules.py, judge.py, routing.py), used by
the e2e fixtures (the healthy session stack, the seed incident stack) and by the
`scanium-e2e alerts` command (an existing store, read only). Every wait polls with a
deadline and ends when the answer is final: the ruler has evaluated every group after the
moment that matters, and on the incident, as soon as every rule it needs is active.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scanium_e2e.alerts.datasources import Datasources, datasources_for
from scanium_e2e.alerts.grafana_rules import (
    Evaluation,
    check_queries,
    condition_text,
    evaluate_rule,
)
from scanium_e2e.alerts.judge import Explainer, ScenarioVerdict, judge_healthy, judge_incident
from scanium_e2e.alerts.loading import load_rules
from scanium_e2e.alerts.model import GrafanaRule, RuleKind, RuleSet, RuleState
from scanium_e2e.alerts.prometheus_rules import (
    count_recorded,
    query_states,
    record_late_data,
    ruler_states,
    wait_for_evaluation,
)
from scanium_e2e.alerts.routing import RoutingConfig, load_routing
from scanium_e2e.alerts.ruler import RulerClient
from scanium_e2e.alerts.slow_run import RunLatency, explanations
from scanium_e2e.contract import AlertExpectations
from scanium_e2e.polling import poll
from scanium_e2e.verdict.empty_query import QueryClient, explain_empty

# How long the incident may take to be noticed once `up` is 0 in the store, when no rule
# notices it yet: rules evaluate every second, so this is several evaluations.
NOTICE_WINDOW_S = 3.0
# Rules are evaluated every second (ruler.EVALUATION_INTERVAL): asking more often than that
# learns nothing new, and a Grafana rule's evaluation a second old is as fresh as the ruler's.
EVALUATION_PERIOD_S = 1.0
# How far back an empty query's explanation looks.
EXPLAIN_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class AlertInputs:
    """What the user gave: rule files, data source provisioning, an Alertmanager config."""

    rules: RuleSet
    datasources: Datasources
    routing: RoutingConfig | None = None


def load_inputs(
    rule_paths: Sequence[Path],
    datasource_paths: Sequence[Path] = (),
    alertmanager_config: Path | None = None,
) -> AlertInputs:
    """Read and check every input; RuleFileError (bad input) names what is wrong."""
    rules = load_rules(rule_paths)
    datasources = datasources_for(rule_paths, datasource_paths)
    check_queries(rules, datasources)
    routing = load_routing(alertmanager_config) if alertmanager_config else None
    return AlertInputs(rules, datasources, routing)


@dataclass
class StoreTarget:
    """A store to judge on: its query API, and its ruler when the suite may load rules."""

    name: str
    client: QueryClient
    ruler: RulerClient | None
    scrape_interval_s: float = 1.0
    timeout_s: float = 20.0
    poll_interval_s: float = 0.25
    # The scrape job the rules read right after the traffic ("": the data is older). A
    # rule evaluated by query waits for a scrape of it a scrape interval after the traffic
    # ended (epoch; None: after `after`).
    scrape_job: str = ""
    traffic_ended: float | None = None
    _grafana: dict[tuple[str, str, str, int], tuple[float, RuleState]] = field(
        default_factory=dict, repr=False
    )

    def load(self, rules: RuleSet, rule_set: str) -> None:
        """Load the Prometheus groups into the ruler (nothing without one)."""
        if self.ruler is not None and rules.prometheus:
            self.ruler.load_all(rule_set, rules.prometheus)

    def states(
        self, inputs: AlertInputs, rules: RuleSet, rule_set: str, after: datetime
    ) -> list[RuleState]:
        """Every rule's state, from evaluations after `after`. Grafana rules are evaluated
        (a few threads) while the ruler's next evaluation is awaited: neither waits on the
        other."""
        if rules.grafana or (self.ruler is None and rules.prometheus):
            self._wait_for_scrape_after(after)
        evaluation = Evaluation(self.client, inputs.datasources, self.scrape_interval_s)
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="grafana-rule") as pool:
            grafana = [
                pool.submit(self._grafana_state, rule, evaluation, after) for rule in rules.grafana
            ]
            if self.ruler is not None and rules.prometheus:
                loaded = wait_for_evaluation(
                    self.ruler,
                    rule_set,
                    rules.prometheus,
                    after,
                    timeout_s=self.timeout_s,
                    interval_s=self.poll_interval_s,
                )
                states = record_late_data(
                    self.client,
                    self.ruler,
                    rule_set,
                    rules.prometheus,
                    count_recorded(self.client, ruler_states(rule_set, rules.prometheus, loaded)),
                    timeout_s=self.timeout_s,
                    interval_s=self.poll_interval_s,
                )
            else:
                states = query_states(self.client, rules.prometheus)
            return states + [future.result() for future in grafana]

    def _wait_for_scrape_after(self, after: datetime) -> None:
        """An expression evaluated by query (no ruler's evaluation to wait for) is final
        once the store holds a scrape of `scrape_job` stamped a scrape interval after the
        traffic ended: a series the traffic created then has two samples, the scrape that
        first held it and that one, as a rate() needs (seen: judged on the first scrape
        after the traffic, a recording rule over rate() recorded nothing)."""
        if not self.scrape_job:
            return
        ended = self.traffic_ended if self.traffic_ended is not None else after.timestamp()
        due = ended + self.scrape_interval_s
        query = f'max(timestamp(up{{job="{self.scrape_job}"}}))'
        poll(
            lambda: self.client.instant(query),
            lambda samples: bool(samples) and samples[0].value >= due,
            what=f"a scrape of job {self.scrape_job} stamped {self.scrape_interval_s:g} s after "
            f"the traffic, in the {self.name} store",
            timeout_s=self.timeout_s,
            interval_s=self.poll_interval_s,
            describe=lambda samples: (
                f"latest scrape {samples[0].value - due:+.1f} s from it"
                if samples
                else "no scrape of it"
            ),
        )

    def _grafana_state(
        self, rule: GrafanaRule, evaluation: Evaluation, after: datetime
    ) -> RuleState:
        """One evaluation after `after`, shared by the rule sets that hold the same rule
        (the proofs' copies) within one evaluation period."""
        key = (rule.ref.file, rule.ref.group, rule.ref.name, rule.ref.index)
        cached = self._grafana.get(key)
        now = time.monotonic()
        if (
            cached is not None
            and now - cached[0] < EVALUATION_PERIOD_S
            and cached[0] >= time.monotonic() - (datetime.now(UTC) - after).total_seconds()
        ):
            return cached[1]
        state = evaluate_rule(rule, evaluation)
        self._grafana[key] = (now, state)
        return state

    def explainer(self) -> Explainer:
        """Why a query is empty, pint-style, over the last minutes."""

        def explain(query: str) -> str:
            end = datetime.now(UTC)
            found = explain_empty(self.client, query, end - EXPLAIN_WINDOW, end)
            return "; ".join(f.render() for f in found)

        return explain


def judge_healthy_on(
    target: StoreTarget,
    inputs: AlertInputs,
    expectations: AlertExpectations,
    *,
    after: datetime,
    rules: RuleSet | None = None,
    rule_set: str = "rules",
    run: RunLatency | None = None,
) -> ScenarioVerdict:
    """The healthy scenario on `target`, from evaluations after `after` (the traffic);
    `run`: the latency the traffic's ledger measured, to explain latency rules."""
    chosen = rules or inputs.rules
    states = target.states(inputs, chosen, rule_set, after)
    return judge_healthy(
        states,
        expectations,
        client=target.client,
        explain=target.explainer(),
        conditions={rule.ref.name: condition_text(rule) for rule in chosen.grafana},
        latency=explanations(chosen, run),
    )


def judge_incident_on(
    target: StoreTarget,
    inputs: AlertInputs,
    expectations: AlertExpectations,
    *,
    job: str,
    rules: RuleSet | None = None,
    rule_set: str = "rules",
    window_s: float = NOTICE_WINDOW_S,
) -> ScenarioVerdict:
    """The seed incident on `target`: once `up` is 0 in the store, until every rule the
    verdict needs is active, or `window_s` has passed without it."""
    chosen = rules or inputs.rules
    up_query = f'up{{job="{job}"}}'
    poll(
        lambda: target.client.instant(f"{up_query} == 0"),
        bool,
        what=f"`{up_query} == 0` in the incident's store",
        timeout_s=target.timeout_s,
        interval_s=target.poll_interval_s,
        describe=lambda found: f"{len(found)} series",
    )
    zero_seen = time.monotonic()
    after = datetime.now(UTC)
    required = set(expectations.must_fire.get("incident", ()))

    def probe() -> list[RuleState]:
        return target.states(inputs, chosen, rule_set, after)

    def final(states: list[RuleState]) -> bool:
        active = {s.rule.name for s in states if s.rule.kind is RuleKind.ALERTING and s.noticed}
        return bool(active) and required <= active

    result = poll(
        probe,
        final,
        what="a rule noticing the seed incident",
        timeout_s=window_s,
        interval_s=max(target.poll_interval_s, EVALUATION_PERIOD_S),
        raise_on_timeout=False,
        describe=lambda states: ", ".join(f"{s.rule.name}: {s.cell()}" for s in states),
    )
    states = result.value if result.value is not None else probe()
    return judge_incident(
        states,
        expectations,
        up_query=up_query,
        zero_for_s=time.monotonic() - zero_seen,
        suggestion=f"{up_query} == 0",
    )
