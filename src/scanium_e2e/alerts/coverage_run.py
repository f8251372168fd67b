"""Alert coverage on real stacks: the rules judged on every variant the harness runs, and on
a healthy stack run the same way, so that both sides of "told apart from health" are read
alike (read-only, right after the suite ran against the stack).

Used by `pytest e2e/ --scanium-mutations` (e2e/test_mutations.py) and `scanium-e2e alerts
--coverage`. The healthy stack also routes each alerting rule's alert through the user's
Alertmanager config (its own Alertmanager: nothing is posted anywhere else).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from scanium_e2e.alerts.coverage import ClassCoverage, VariantRules, coverage
from scanium_e2e.alerts.judge import ScenarioVerdict
from scanium_e2e.alerts.routing import (
    AlertmanagerClient,
    RoutingConfig,
    alert_labels,
    deliver,
    describe_receivers,
)
from scanium_e2e.alerts.scenarios import AlertInputs
from scanium_e2e.alerts.session import SINK_PORT, judge_on_variant
from scanium_e2e.contract import Contract
from scanium_e2e.mutation import AfterSuite, Variant, VariantResult
from scanium_e2e.settings import Settings
from scanium_e2e.stack.compose import ComposeStack

# The reference stack, unbroken: the healthy side of every class's comparison.
HEALTHY = "healthy"
# The compose profile that runs Alertmanager's webhook sink (docker-compose.test.yml).
ROUTING_PROFILE = {"COMPOSE_PROFILES": "alerts"}


def healthy_variant(*, routed: bool) -> Variant:
    """The healthy stack of a coverage run (with the webhook sink when routes are judged)."""
    return Variant(
        name=HEALTHY,
        breaks="nothing: the reference stack",
        overrides=ROUTING_PROFILE if routed else {},
    )


@dataclass
class StackRules:
    """What the rules did on one stack: each rule set's verdict, and (on the healthy stack,
    with an Alertmanager config) where each alerting rule's alert goes."""

    verdicts: dict[str, ScenarioVerdict]
    routes: dict[str, str] = field(default_factory=dict)


def judge_rules(
    settings: Settings, rule_sets: Mapping[str, AlertInputs], routing: RoutingConfig | None
) -> AfterSuite:
    """The `after_suite` of a coverage run: every rule set on the stack, and the routes on
    the healthy one."""

    def judge(stack: ComposeStack, variant: Variant) -> StackRules:
        verdicts = {
            name: judge_on_variant(stack, inputs, variant.name)
            for name, inputs in rule_sets.items()
        }
        routes: dict[str, str] = {}
        if variant.name == HEALTHY and routing is not None:
            first = next(iter(rule_sets.values()))
            routes = route_rules(stack, settings, routing, first)
        return StackRules(verdicts, routes)

    return judge


def route_rules(
    stack: ComposeStack, settings: Settings, routing: RoutingConfig, inputs: AlertInputs
) -> dict[str, str]:
    """Each alerting rule's alert (its labels, `alertname`) through `routing` on the
    stack's own Alertmanager: the receivers it reaches, and whether one pages."""
    client = AlertmanagerClient(
        stack.endpoints.mimir_url, stack.url_of("alert-sink", SINK_PORT), tenant=settings.tenant
    )
    timeout_s = max(settings.data_timeout_s / 3, 10.0)
    try:
        client.configure(routing)
        client.wait_ready(timeout_s=timeout_s)
        routes = {}
        for rule in inputs.rules.alerting:
            delivery = deliver(
                client,
                routing,
                alert_labels(rule.name, rule.labels, {}),
                {"summary": "alert coverage"},
                timeout_s=timeout_s,
            )
            receivers = describe_receivers(
                delivery.delivered_to or delivery.routed_to, routing.null_receivers
            )
            routes[rule.name] = f"{receivers} ({'pages' if delivery.paged else 'pages no one'})"
        return routes
    finally:
        client.close()


def coverage_of(
    done: Sequence[VariantResult], rule_set: str, contract: Contract
) -> list[ClassCoverage] | None:
    """The coverage of `rule_set` from a run's results (HEALTHY among them); None when the
    healthy stack's rules could not be read (its report says why)."""
    healthy = next((r for r in done if r.variant.name == HEALTHY), None)
    if healthy is None or not isinstance(healthy.report, StackRules):
        return None
    report = healthy.report
    variants = [
        VariantRules(
            result.variant.name,
            result.variant.failure_class,
            result.report.verdicts[rule_set] if isinstance(result.report, StackRules) else None,
            "" if isinstance(result.report, StackRules) else f"not judged: {result.report}",
        )
        for result in done
        if result.variant.name != HEALTHY
    ]
    return coverage(
        report.verdicts[rule_set],
        variants,
        contract.alerts,
        contract,
        routes=report.routes,
    )
