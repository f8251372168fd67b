"""Prometheus rule files' states: read from the store's ruler, or, against a store the
suite must not write to, by asking the store's query engine each rule's expression.

In a started stack the ruler evaluates the rules (ruler.py) and this module maps its
answer back to the rules of the files: state, evaluation error, and the series of each
active alert. `scanium-e2e alerts` and external mode only read: an alerting rule's
expression is run as an instant query (its condition holds when it returns series; a
`for:` cannot be waited out by one query, so such a rule is reported pending), and a
recording rule's expression is counted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from scanium_e2e.alerts.model import (
    ActiveSeries,
    PrometheusGroup,
    RuleKind,
    RuleRef,
    RuleState,
    State,
)
from scanium_e2e.alerts.ruler import EVALUATION_INTERVAL, LoadedGroup, RulerClient, namespace_of
from scanium_e2e.clients.query import QueryError
from scanium_e2e.polling import PollResult, poll
from scanium_e2e.promql import parse_duration
from scanium_e2e.verdict.empty_query import QueryClient

GroupKey = tuple[str, str]


def wait_for_evaluation(
    ruler: RulerClient,
    rule_set: str,
    groups: Sequence[PrometheusGroup],
    after: datetime,
    *,
    timeout_s: float,
    interval_s: float = 0.25,
) -> dict[GroupKey, LoadedGroup]:
    """The loaded groups once the ruler has evaluated every one of them after `after`."""
    wanted = {(namespace_of(rule_set, g), g.name) for g in groups}

    def probe() -> dict[GroupKey, LoadedGroup]:
        return {(g.namespace, g.name): g for g in ruler.groups() if (g.namespace, g.name) in wanted}

    def done(found: dict[GroupKey, LoadedGroup]) -> bool:
        return set(found) == wanted and all(
            g.last_evaluation is not None and g.last_evaluation >= after for g in found.values()
        )

    def describe(found: dict[GroupKey, LoadedGroup]) -> str:
        missing = sorted(f"{ns}/{name}" for ns, name in wanted - set(found))
        stale = sorted(
            f"{key[0]}/{key[1]} (last evaluated {g.last_evaluation or 'never'})"
            for key, g in found.items()
            if g.last_evaluation is None or g.last_evaluation < after
        )
        return "; ".join(
            part
            for part in (
                f"not loaded yet: {', '.join(missing)}" if missing else "",
                f"not evaluated since {after:%H:%M:%S}: {', '.join(stale)}" if stale else "",
            )
            if part
        )

    result: PollResult[dict[GroupKey, LoadedGroup]] = poll(
        probe,
        done,
        what=f"{ruler.name}'s ruler evaluating {len(wanted)} rule group(s)",
        timeout_s=timeout_s,
        interval_s=interval_s,
        describe=describe,
    )
    return result.value or {}


def _value(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def _alert_series(api: Mapping[str, Any]) -> tuple[ActiveSeries, ...]:
    return tuple(
        ActiveSeries(
            {k: str(v) for k, v in (alert.get("labels") or {}).items() if k != "alertname"},
            _value(alert.get("value")),
        )
        for alert in api.get("alerts") or []
        if alert.get("state") in ("pending", "firing")
    )


_STATES = {"inactive": State.INACTIVE, "pending": State.PENDING, "firing": State.FIRING}


def _from_api(rule: RuleRef, api: Mapping[str, Any] | None) -> RuleState:
    if api is None:
        return RuleState(rule, State.ERROR, "the ruler does not list this rule")
    if api.get("health") == "err":
        return RuleState(rule, State.ERROR, str(api.get("lastError") or "evaluation failed"))
    if rule.kind is RuleKind.RECORDING:
        return RuleState(rule, State.INACTIVE)  # counted by count_recorded
    state = _STATES.get(str(api.get("state", "")), State.INACTIVE)
    return RuleState(rule, state, "", _alert_series(api) if state is not State.INACTIVE else ())


def ruler_states(
    rule_set: str, groups: Sequence[PrometheusGroup], loaded: Mapping[GroupKey, LoadedGroup]
) -> list[RuleState]:
    """Every rule's state as the ruler reports it (recording rules still to be counted)."""
    states = []
    for group in groups:
        found = loaded.get((namespace_of(rule_set, group), group.name))
        for rule in group.rules:
            api = found.rules[rule.index] if found and rule.index < len(found.rules) else None
            states.append(_from_api(rule, api))
    return states


def count_recorded(client: QueryClient, states: list[RuleState]) -> list[RuleState]:
    """Recording rules' states: how many series each wrote to the store."""
    out = []
    for state in states:
        if state.rule.kind is not RuleKind.RECORDING or state.state is State.ERROR:
            out.append(state)
            continue
        try:
            samples = client.instant(f'count({{__name__="{state.rule.name}"}})')
        except QueryError as exc:
            out.append(RuleState(state.rule, State.ERROR, exc.reason))
            continue
        count = int(samples[0].value) if samples else 0
        out.append(
            RuleState(state.rule, State.RECORDED, f"{count} series")
            if count
            else RuleState(state.rule, State.NO_SERIES)
        )
    return out


def record_late_data(
    client: QueryClient,
    ruler: RulerClient,
    rule_set: str,
    groups: Sequence[PrometheusGroup],
    states: list[RuleState],
    *,
    timeout_s: float,
    interval_s: float = 0.25,
) -> list[RuleState]:
    """Recount the recording rules that wrote no series although their expression returns
    data now: the data reached the store after the ruler's last evaluation (seen: a rate()
    whose second sample came a second late), so only an evaluation after now is final.

    The ruler evaluates at its interval's slot, up to one interval before it starts: the
    wait is for an evaluation started one interval after now."""
    late = [
        state.rule
        for state in states
        if state.rule.kind is RuleKind.RECORDING
        and state.state is State.NO_SERIES
        and _returns_data(client, state.rule.query)
    ]
    if not late:
        return states
    after = datetime.now(UTC) + timedelta(seconds=parse_duration(EVALUATION_INTERVAL))
    waiting = [group for group in groups if any(rule in group.rules for rule in late)]
    wait_for_evaluation(ruler, rule_set, waiting, after, timeout_s=timeout_s, interval_s=interval_s)
    recounted = count_recorded(client, [s for s in states if s.rule in late])
    return [next((r for r in recounted if r.rule == s.rule), s) for s in states]


def _returns_data(client: QueryClient, query: str) -> bool:
    try:
        return bool(client.instant(query))
    except QueryError:
        return False


def query_states(client: QueryClient, groups: Sequence[PrometheusGroup]) -> list[RuleState]:
    """Every rule's state from one instant query of its expression (no ruler)."""
    states = []
    for group in groups:
        for rule in group.rules:
            try:
                samples = client.instant(rule.query)
            except QueryError as exc:
                states.append(RuleState(rule, State.ERROR, exc.reason))
                continue
            if rule.kind is RuleKind.RECORDING:
                states.append(
                    RuleState(rule, State.RECORDED, f"{len(samples)} series")
                    if samples
                    else RuleState(rule, State.NO_SERIES)
                )
            elif samples:
                series = tuple(
                    ActiveSeries({k: v for k, v in s.labels.items() if k != "__name__"}, s.value)
                    for s in samples
                )
                state = State.PENDING if rule.for_s > 0 else State.FIRING
                states.append(RuleState(rule, state, "", series))
            else:
                states.append(RuleState(rule, State.INACTIVE))
    return states
