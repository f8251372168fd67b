"""Grafana-managed alert rules, evaluated as Grafana evaluates them (a documented subset).

Grafana is not available here (AGPL), so the suite does what its rule evaluation does, on
the stack's store: each data source query runs over its `relativeTimeRange` (an instant
query at its end, or a range query over it), then each expression in `data[]` runs in
dependency order, then the condition's numbers become alert instances:
- a number 0 is Normal; any other number (NaN too) is Alerting: Pending while the rule's
  `for:` has not passed, Firing once it has (a single evaluation cannot wait out a `for:`,
  so an Alerting instance of a rule with `for:` is reported pending, which counts as
  noticed); a null is No Data for that instance;
- a condition that is a time series is an error (only reduced data can be alerted on);
- no data at all follows `noDataState` (NoData, Alerting, OK, KeepLast), an execution
  error follows `execErrState` (Error, Alerting, OK, KeepLast); KeepLast keeps the last
  state, which on a first evaluation is Normal.
Range queries step at `intervalMs` (at least the stack's scrape interval, which stands in
for the data source's `timeInterval`, as in dashboard replay), or range / `maxDataPoints`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from scanium_e2e.alerts.datasources import Datasources
from scanium_e2e.alerts.expressions import SUPPORTED_TYPES, ExpressionError, Results, Unsupported
from scanium_e2e.alerts.expressions.classic import classic_command, classic_conditions
from scanium_e2e.alerts.expressions.math import evaluate_math, variables
from scanium_e2e.alerts.expressions.reduce import reduce_command
from scanium_e2e.alerts.expressions.resample import resample_command
from scanium_e2e.alerts.expressions.threshold import evaluator_of, threshold_command
from scanium_e2e.alerts.expressions.values import Number, Series
from scanium_e2e.alerts.loading import RuleFileError
from scanium_e2e.alerts.model import (
    ActiveSeries,
    GrafanaQuery,
    GrafanaRule,
    RuleSet,
    RuleState,
    State,
)
from scanium_e2e.clients.query import QueryError
from scanium_e2e.dashboards.intervals import QueryTiming, calculate_interval, macros, rate_interval
from scanium_e2e.promql import PromQLSyntaxError, analyse
from scanium_e2e.verdict.empty_query import QueryClient

DEFAULT_INTERVAL_MS = 1000
DEFAULT_MAX_DATA_POINTS = 43_200
_MACRO = re.compile(r"\$\{?(__[A-Za-z_]+)\}?")
# Values that make a query with Grafana's macros valid PromQL, to read it (not to run it).
PLACEHOLDER_MACROS: Mapping[str, str] = {
    **{name: "1m" for name in ("__interval", "__rate_interval", "__range")},
    **{name: "1" for name in ("__interval_ms", "__range_s", "__range_ms", "__from", "__to")},
}


@dataclass(frozen=True)
class Evaluation:
    """Where and how Grafana rules are evaluated."""

    client: QueryClient
    datasources: Datasources
    scrape_interval_s: float = 1.0
    store_name: str = "the store"


def dependencies(entry: GrafanaQuery) -> list[str]:
    """The refIds an expression reads ([] for a data source query)."""
    if not entry.is_expression:
        return []
    kind = entry.expression_type
    if kind == "math":
        return variables(str(entry.model.get("expression", "")))
    if kind == "classic_conditions":
        return [condition.ref for condition in classic_conditions(entry.model)]
    return [str(entry.model.get("expression", "")).lstrip("$").strip("{}")]


def _order(rule: GrafanaRule) -> list[GrafanaQuery]:
    """`data[]` in an order where every entry comes after what it reads."""
    done: list[GrafanaQuery] = []
    pending = list(rule.data)
    while pending:
        ready = [e for e in pending if all(d in {x.ref_id for x in done} for d in dependencies(e))]
        if not ready:
            names = ", ".join(e.ref_id for e in pending)
            raise ExpressionError(
                f"the expressions {names} read refIds that are not defined or form a cycle"
            )
        done.extend(ready)
        pending = [e for e in pending if e not in ready]
    return done


def _timing(entry: GrafanaQuery, scrape_interval_s: float) -> QueryTiming:
    range_s = max(entry.relative_from_s - entry.relative_to_s, 1.0)
    interval_ms = float(entry.model.get("intervalMs") or DEFAULT_INTERVAL_MS)
    points = int(entry.model.get("maxDataPoints") or DEFAULT_MAX_DATA_POINTS)
    interval = calculate_interval(range_s, max(interval_ms / 1000, scrape_interval_s), points)
    return QueryTiming(
        step_s=interval,
        interval_s=interval,
        rate_interval_s=rate_interval(interval, scrape_interval_s),
        range_s=range_s,
    )


def expand_macros(expr: str, values: Mapping[str, str]) -> str:
    """`$__interval`, `${__rate_interval}`, ... replaced; unknown ones left as they are."""
    return _MACRO.sub(lambda m: values.get(m.group(1), m.group(0)), expr)


def is_instant(entry: GrafanaQuery) -> bool:
    """An instant query (`instant: true`, or `queryType: instant`) rather than a range one."""
    model = entry.model
    if model.get("range") is True and model.get("instant") is not True:
        return False
    return model.get("instant") is True or str(model.get("queryType", "")) == "instant"


def _run_query(entry: GrafanaQuery, evaluation: Evaluation, now: datetime) -> Results:
    start = now - timedelta(seconds=entry.relative_from_s)
    end = now - timedelta(seconds=entry.relative_to_s)
    timing = _timing(entry, evaluation.scrape_interval_s)
    expr = expand_macros(str(entry.model.get("expr", "")), macros(start, end, timing))
    if is_instant(entry):
        samples = evaluation.client.instant(expr, at=end)
        items: tuple[Number | Series, ...] = tuple(
            Number(_without_name(s.labels), s.value) for s in samples
        )
    else:
        series = evaluation.client.range(expr, start, end, timing.step_s)
        items = tuple(Series(_without_name(s.labels), tuple(s.points)) for s in series)
    return Results(items, no_data=not items)


def _without_name(labels: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in labels.items() if k != "__name__"}


class _Elsewhere(Exception):
    """A query over a data source that is not part of this stack (Loki, Tempo, ...)."""


class _Unresolved(Exception):
    """A datasourceUid the provisioning does not define."""


def _source_of(entry: GrafanaQuery, datasources: Datasources) -> None:
    source = datasources.get(entry.datasource_uid)
    if source is None:
        raise _Unresolved(
            f"data source uid `{entry.datasource_uid}` (refId {entry.ref_id}) resolves to "
            f"nothing in {datasources.describe()}"
        )
    if not source.is_prometheus:
        raise _Elsewhere(f"{source.type} data source `{source.uid}` (refId {entry.ref_id})")


def execute(rule: GrafanaRule, evaluation: Evaluation, now: datetime) -> Results:
    """The condition's results; raises ExpressionError (execution error), Unsupported,
    QueryError (the store refused a query), _Elsewhere or _Unresolved."""
    for entry in rule.data:
        if entry.is_expression:
            if entry.expression_type not in SUPPORTED_TYPES:
                raise Unsupported(f"type {entry.expression_type or '(none)'}")
        else:
            _source_of(entry, evaluation.datasources)
    results: dict[str, Results] = {}
    for entry in _order(rule):
        kind = entry.expression_type
        if not entry.is_expression:
            results[entry.ref_id] = _run_query(entry, evaluation, now)
        elif kind == "math":
            results[entry.ref_id] = evaluate_math(str(entry.model.get("expression", "")), results)
        elif kind == "reduce":
            results[entry.ref_id] = reduce_command(entry.model, results[dependencies(entry)[0]])
        elif kind == "threshold":
            results[entry.ref_id] = threshold_command(entry.model, results[dependencies(entry)[0]])
        elif kind == "resample":
            start = (now - timedelta(seconds=entry.relative_from_s)).timestamp()
            end = (now - timedelta(seconds=entry.relative_to_s)).timestamp()
            results[entry.ref_id] = resample_command(
                entry.model, results[dependencies(entry)[0]], start, end
            )
        else:
            results[entry.ref_id] = classic_command(entry.model, results)
    return results[rule.condition]


def _alerting(rule: GrafanaRule, series: tuple[ActiveSeries, ...], detail: str) -> RuleState:
    state = State.PENDING if rule.ref.for_s > 0 else State.FIRING
    return RuleState(rule.ref, state, detail, series)


def _special(rule: GrafanaRule, mapping: str, what: State, detail: str) -> RuleState:
    """No data or an error, mapped through noDataState / execErrState."""
    if mapping == "Alerting":
        return _alerting(rule, (), f"{what}, and the rule maps it to Alerting: {detail}")
    if mapping in ("OK", "Normal"):
        return RuleState(rule.ref, State.INACTIVE, f"{what}, mapped to OK: {detail}")
    if mapping == "KeepLast":
        return RuleState(
            rule.ref, State.INACTIVE, f"{what}, KeepLast (first evaluation: Normal): {detail}"
        )
    return RuleState(rule.ref, what, detail)


def evaluate_rule(
    rule: GrafanaRule, evaluation: Evaluation, now: datetime | None = None
) -> RuleState:
    """The rule's state from one evaluation at `now` (default: now)."""
    moment = now or datetime.now(UTC)
    if rule.is_paused:
        return RuleState(rule.ref, State.INACTIVE, "paused (isPaused: true)")
    try:
        condition = execute(rule, evaluation, moment)
    except Unsupported as exc:
        return RuleState(rule.ref, State.UNSUPPORTED, exc.what)
    except _Elsewhere as exc:
        return RuleState(rule.ref, State.ELSEWHERE, str(exc))
    except _Unresolved as exc:
        return RuleState(rule.ref, State.ERROR, str(exc))
    except (ExpressionError, QueryError) as exc:
        return _special(rule, rule.exec_err_state, State.ERROR, str(exc))
    if condition.has_series:
        return _special(
            rule,
            rule.exec_err_state,
            State.ERROR,
            f"the condition {rule.condition} is time series data; only reduced data can be "
            "alerted on (add a reduce)",
        )
    if condition.no_data or not condition.items:
        return _special(rule, rule.no_data_state, State.NO_DATA, "the query returned nothing")
    alerting = tuple(
        ActiveSeries(item.labels, item.value)
        for item in condition.items
        if isinstance(item, Number) and item.value is not None and item.value != 0
    )
    if alerting:
        shown = "; ".join(condition.matches[:3])
        more = len(condition.matches) - 3
        return _alerting(rule, alerting, shown + (f" (+{more} more)" if more > 0 else ""))
    if any(isinstance(item, Number) and item.value is None for item in condition.items):
        return _special(rule, rule.no_data_state, State.NO_DATA, "the condition is null")
    return RuleState(rule.ref, State.INACTIVE)


def check_queries(rules: RuleSet, datasources: Datasources) -> None:
    """Bad input before any stack starts: a Prometheus-type query that is not PromQL is
    named with its file, group, rule and refId (macros count as durations)."""
    for rule in rules.grafana:
        for entry in rule.data:
            source = None if entry.is_expression else datasources.get(entry.datasource_uid)
            if source is None or not source.is_prometheus:
                continue
            expr = str(entry.model.get("expr", ""))
            try:
                analyse(expand_macros(expr, PLACEHOLDER_MACROS))
            except PromQLSyntaxError as exc:
                raise RuleFileError(
                    f"{rule.ref.file}: group `{rule.ref.group}`, rule `{rule.ref.name}`, refId "
                    f"{entry.ref_id}: invalid PromQL `{' '.join(expr.split())}`: {exc}"
                ) from None


def condition_text(rule: GrafanaRule) -> str:
    """What the condition asks, for sentences: `< 1` (threshold), the math expression, or
    the first classic condition's evaluator."""
    entry = rule.query(rule.condition)
    if entry is None:
        return ""
    kind = entry.expression_type
    if kind == "threshold":
        try:
            name, params = evaluator_of(entry.model)
        except ExpressionError:
            return ""
        symbols = {"gt": ">", "lt": "<"}
        if name in symbols and params:
            return f"{symbols[name]} {params[0]:g}"
        return f"{name} {', '.join(f'{p:g}' for p in params)}"
    if kind == "math":
        return str(entry.model.get("expression", ""))
    return ""
