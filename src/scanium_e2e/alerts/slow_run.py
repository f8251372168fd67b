"""A latency rule that holds on the healthy stack: the rule, the plan, or a slow machine?

A rule that compares a quantile of the contract's latency histogram with a number,
`histogram_quantile(q, <latency>_bucket ...) > T` (a Grafana rule: that query, reduced by
mean, min, max, last or median, above T), can hold only when some observation lies above
B, the largest bucket bound not above T (below T for `>= T`): while every observation is
at most B, every bucket from B up holds the same count, and the quantile is at most B.
The suite's own clock bounds each observation, since a request's server-side latency is
at most its round trip (the ledger). So the ledger tells which of three things made such a
rule hold:

- the plan: a request's stub delay plus the run's median overhead reaches above B, so the
  rule holds on what a healthy run is meant to look like (a threshold too tight, or in
  another unit): a finding;
- a slow machine: only requests slower than planned reach above B (seen in CI: one
  request of sixteen took over 5 s on a loaded runner, and a p95 over 15 minutes
  averaged above 5000 ms). The data is true and the rule right to hold; the healthy
  judgement cannot say more on this run: "not judged on this run", naming the requests;
- neither: no request the suite sent took longer than B, so its data cannot make the rule
  hold: a finding, with that evidence.

The bucket bounds are the contract's; any other latency rule keeps the plain verdict.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import promql_parser as pp

from scanium_e2e.alerts.expressions.classic import classic_conditions
from scanium_e2e.alerts.expressions.threshold import evaluator_of
from scanium_e2e.alerts.expressions.values import ExpressionError
from scanium_e2e.alerts.grafana_rules import PLACEHOLDER_MACROS, dependencies, expand_macros
from scanium_e2e.alerts.model import GrafanaQuery, GrafanaRule, RuleKind, RuleSet
from scanium_e2e.alerts.traps import unwrap
from scanium_e2e.checks.histograms import latency_expectations
from scanium_e2e.contract import Contract
from scanium_e2e.promql import PromQLSyntaxError, analyse
from scanium_e2e.traffic.ledger import Ledger

# Reducers whose result is at most the largest point (Grafana's `reduce` and classic names).
_BOUNDED_REDUCERS = frozenset({"mean", "avg", "min", "max", "last", "median"})


@dataclass(frozen=True)
class LatencyRule:
    """An alerting rule that holds when a quantile of `family` rises above `above` (or
    reaches it, `inclusive`)."""

    family: str
    above: float
    inclusive: bool = False


def is_latency_quantile(expr: str, family: str) -> bool:
    """True for `histogram_quantile(q, ...)` whose every selector is `<family>_bucket`."""
    try:
        root = unwrap(pp.parse(expr))
        found = analyse(expr).selectors
    except (ValueError, RuntimeError, PromQLSyntaxError):
        return False
    return (
        isinstance(root, pp.Call)
        and root.func.name == "histogram_quantile"
        and bool(found)
        and all(selector.name == f"{family}_bucket" for selector in found)
    )


def prometheus_latency_rule(query: str, family: str) -> LatencyRule | None:
    """`<latency quantile> > T` (or `>= T`) as a LatencyRule, else None."""
    try:
        root = unwrap(pp.parse(query))
    except (ValueError, RuntimeError):
        return None
    if not isinstance(root, pp.BinaryExpr) or str(root.op) not in (">", ">="):
        return None
    if root.modifier is not None and root.modifier.return_bool:
        return None  # `> bool T` is 0 or 1 on every series: it holds regardless
    rhs = unwrap(root.rhs)
    if not isinstance(rhs, pp.NumberLiteral) or not is_latency_quantile(str(root.lhs), family):
        return None
    return LatencyRule(family, float(rhs.val), inclusive=str(root.op) == ">=")


def _reads_quantile(rule: GrafanaRule, ref: str, family: str, above: float) -> bool:
    """The refId is a latency quantile query, or a bounded reduce of one."""
    entry: GrafanaQuery | None = rule.query(ref)
    if entry is not None and entry.expression_type == "reduce":
        settings = entry.model.get("settings") or {}
        replaced = str(settings.get("mode", "")) == "replaceNN"
        if str(entry.model.get("reducer", "")).lower() not in _BOUNDED_REDUCERS or (
            replaced and float(settings.get("replaceWithValue", 0) or 0) > above
        ):
            return False
        entry = rule.query(dependencies(entry)[0])
    if entry is None or entry.is_expression:
        return False
    expr = expand_macros(str(entry.model.get("expr", "")), PLACEHOLDER_MACROS)
    return is_latency_quantile(expr, family)


def grafana_latency_rule(rule: GrafanaRule, family: str) -> LatencyRule | None:
    """A threshold `gt T` over a (reduced) latency quantile, or classic conditions each
    `<bounded reducer>() of <latency quantile> is above T`, as a LatencyRule, else None."""
    condition = rule.query(rule.condition)
    if condition is None:
        return None
    if condition.expression_type == "threshold":
        try:
            kind, params = evaluator_of(condition.model)
        except ExpressionError:
            return None
        if kind != "gt" or not params:
            return None
        reads = dependencies(condition)
        if reads and _reads_quantile(rule, reads[0], family, params[0]):
            return LatencyRule(family, params[0])
        return None
    if condition.expression_type != "classic_conditions":
        return None
    thresholds = []
    for item in classic_conditions(condition.model):
        if item.evaluator != "gt" or not item.params or item.reducer not in _BOUNDED_REDUCERS:
            return None
        above = float(item.params[0])
        if not _reads_quantile(rule, item.ref, family, above):
            return None
        thresholds.append(above)
    return LatencyRule(family, min(thresholds)) if thresholds else None


def latency_rules(rules: RuleSet, family: str) -> dict[str, LatencyRule]:
    """Each alerting rule of `rules` over a quantile of `family`, by name."""
    found: dict[str, LatencyRule] = {}
    for group in rules.prometheus:
        for rule in group.rules:
            latency = (
                prometheus_latency_rule(rule.query, family)
                if rule.kind is RuleKind.ALERTING
                else None
            )
            if latency is not None:
                found.setdefault(rule.name, latency)
    for grafana in rules.grafana:
        latency = grafana_latency_rule(grafana, family)
        if latency is not None:
            found.setdefault(grafana.ref.name, latency)
    return found


class Cause(StrEnum):
    """What made a latency rule hold, by the ledger."""

    PLAN = "plan"
    SLOW_MACHINE = "slow machine"
    NO_SLOW_REQUEST = "no slow request"


@dataclass(frozen=True)
class Explanation:
    """Why a latency rule holds, in a sentence."""

    cause: Cause
    sentence: str


@dataclass(frozen=True)
class Observed:
    """One request the latency histogram observes: its stub delay and its round trip (the
    bounds of its observation), in the histogram's unit; round trip inf without answer."""

    delay: float
    round_trip: float
    origin: str


@dataclass(frozen=True)
class RunLatency:
    """What the suite's clock saw of the latency the run's traffic produced."""

    family: str
    unit: str
    bounds: tuple[float, ...]
    requests: tuple[Observed, ...]

    @classmethod
    def of(cls, ledger: Ledger, contract: Contract) -> RunLatency:
        """The run's latency from its ledger, in the contract's latency unit."""
        spec = contract.latency
        expected = latency_expectations(ledger, contract, delays_hold=True)
        return cls(
            spec.name,
            spec.unit,
            tuple(sorted(spec.buckets)),
            tuple(Observed(e.low, e.high, e.origin) for e in expected),
        )

    def _amount(self, value: float) -> str:
        return f"{value:.0f} {self.unit}" if self.unit == "ms" else f"{value:g} {self.unit}"

    def explain(self, rule: LatencyRule) -> Explanation | None:
        """Why `rule` holds on this run's data; None when the suite cannot tell (another
        family, no buckets in the contract, no request observed)."""
        if rule.family != self.family or not self.bounds or not self.requests:
            return None
        # `>= T` holds on a quantile equal to T: then B is the bound below T.
        below = [
            b for b in self.bounds if b < rule.above or (b == rule.above and not rule.inclusive)
        ]
        bound = max(below, default=0.0)
        answered = [r for r in self.requests if math.isfinite(r.round_trip)]
        overhead = statistics.median(r.round_trip - r.delay for r in answered) if answered else 0.0
        planned = max(r.delay for r in self.requests) + max(overhead, 0.0)
        slow = [r for r in self.requests if r.round_trip > bound]
        above = self._amount(bound)
        if bound != rule.above:
            above += f" (the bucket bound below its threshold {self._amount(rule.above)})"
        if planned > bound:
            return Explanation(
                Cause.PLAN,
                f"the plan's own requests reach above {above}: up to about "
                f"{self._amount(planned)}, the longest stub delay plus the run's median "
                "overhead, so it holds on a healthy run's ordinary latency",
            )
        if not slow:
            longest = self._amount(max(r.round_trip for r in self.requests))
            return Explanation(
                Cause.NO_SLOW_REQUEST,
                f"none of the {len(self.requests)} requests the latency histogram observes "
                f"took longer than {above} (the slowest: {longest} round trip), so the "
                "latency data cannot make it hold",
            )
        slowest = max(slow, key=lambda r: r.round_trip)
        return Explanation(
            Cause.SLOW_MACHINE,
            f"the machine made this run slower than planned: {len(slow)} of the "
            f"{len(self.requests)} requests the latency histogram observes took longer than "
            f"{above} (slowest: {slowest.origin}) where the plan allows about "
            f"{self._amount(planned)}; the rule is right to hold, so this run cannot judge it",
        )


def explanations(rules: RuleSet, run: RunLatency | None) -> Mapping[str, Explanation]:
    """Rule name -> why it would hold, for each latency rule the run can explain."""
    if run is None:
        return {}
    found = {}
    for name, rule in latency_rules(rules, run.family).items():
        explained = run.explain(rule)
        if explained is not None:
            found[name] = explained
    return found
