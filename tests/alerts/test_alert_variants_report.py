"""The report of which alerting rules hold on each mutation variant's stack."""

from __future__ import annotations

from scanium_e2e.alerts.judge import ScenarioVerdict
from scanium_e2e.alerts.model import RuleFormat, RuleKind, RuleRef, RuleState, State
from scanium_e2e.alerts.session import variants_report

DOWN = RuleRef("ScrapeDown", "g", "r.yml", RuleFormat.PROMETHEUS, for_s=120)
RATE = RuleRef("rate5m", "g", "r.yml", RuleFormat.PROMETHEUS, kind=RuleKind.RECORDING)
BUDGET = RuleRef("TokenBudget", "g", "r.yml", RuleFormat.PROMETHEUS)


def test_each_variant_names_the_rules_that_hold_or_that_none_does() -> None:
    cut = ScenarioVerdict(
        "seed-bug",
        [RuleState(DOWN, State.PENDING), RuleState(RATE, State.RECORDED, "1 series")],
    )
    quiet = ScenarioVerdict(
        "failures-as-success",
        [RuleState(DOWN, State.INACTIVE), RuleState(BUDGET, State.ERROR, "bad query")],
    )
    assert variants_report([cut, quiet]).splitlines() == [
        "seed-bug: ScrapeDown (pending)",
        "failures-as-success: no alerting rule's condition holds; errors: TokenBudget: "
        "error: bad query",
    ]
