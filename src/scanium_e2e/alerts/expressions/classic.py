"""The `classic_conditions` expression: Grafana's legacy dashboard-alert conditions.

Each condition reduces every series of its query (`query.params[0]`) with its reducer, and
holds when any series' reduced value meets its evaluator. Conditions combine left to right
with their operator (`and`/`or`; the first one's is ignored). The result is one label-less
number, 1 or 0; no data when no condition's query returned any series. When it is 1, the
series that met their evaluators are named with their reduced values (Grafana's evaluation
matches), for the sentences.

Reducers skip null and NaN points, as Grafana's classic reducers do: avg, min, max, sum,
count, last, median, diff, diff_abs, percent_diff, percent_diff_abs, count_non_null.
Evaluators: gt, lt,
within_range, outside_range (exclusive), and no_value (the reduced value is null).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scanium_e2e.alerts.expressions.threshold import check
from scanium_e2e.alerts.expressions.values import (
    ExpressionError,
    Number,
    Results,
    Series,
    Unsupported,
    Value,
    labels_text,
)


def _first_last(values: list[float]) -> tuple[float, float] | None:
    return (values[0], values[-1]) if values else None


def _diff(values: list[float]) -> Value:
    pair = _first_last(values)
    return None if pair is None else pair[1] - pair[0]


def _percent_diff(values: list[float]) -> Value:
    pair = _first_last(values)
    if pair is None or pair[0] == 0:
        return None
    return (pair[1] - pair[0]) / abs(pair[0]) * 100


REDUCERS: Mapping[str, Callable[[list[float]], Value]] = {
    "avg": lambda v: math.fsum(v) / len(v) if v else None,
    "min": lambda v: min(v) if v else None,
    "max": lambda v: max(v) if v else None,
    "sum": lambda v: math.fsum(v) if v else None,
    "count": lambda v: float(len(v)),
    "last": lambda v: v[-1] if v else None,
    "median": lambda v: float(statistics.median(v)) if v else None,
    "diff": _diff,
    "diff_abs": lambda v: None if (d := _diff(v)) is None else abs(d),
    "percent_diff": _percent_diff,
    "percent_diff_abs": lambda v: None if (d := _percent_diff(v)) is None else abs(d),
    "count_non_null": lambda v: float(len(v)) if v else None,
}


def _values(item: Number | Series) -> list[float]:
    raw: Sequence[Value] = [item.value] if isinstance(item, Number) else [v for _, v in item.points]
    # Grafana's classic reducers skip null and NaN points alike (`nilOrNaN`): a p95 over a
    # window whose rate was 0 is NaN at that step, not a reason for the whole avg to be NaN.
    return [float(v) for v in raw if v is not None and not math.isnan(float(v))]


@dataclass(frozen=True)
class ClassicCondition:
    """One entry of a classic_conditions model's `conditions`, as its model writes it."""

    ref: str  # query.params[0]: the refId it reduces
    reducer: str  # lower case
    evaluator: str
    params: tuple[Any, ...]  # the evaluator's parameters, unconverted
    operator: str  # and / or, lower case

    def numbers(self) -> tuple[float, ...]:
        """The evaluator's parameters as numbers."""
        return tuple(float(p) for p in self.params)


def classic_conditions(model: Mapping[str, Any]) -> list[ClassicCondition]:
    """The conditions of a classic_conditions model, read once for every user."""
    found = []
    for condition in model.get("conditions") or []:
        evaluator = condition.get("evaluator") or {}
        found.append(
            ClassicCondition(
                ref=str(((condition.get("query") or {}).get("params") or [""])[0]),
                reducer=str((condition.get("reducer") or {}).get("type", "")).lower(),
                evaluator=str(evaluator.get("type", "")),
                params=tuple(evaluator.get("params") or []),
                operator=str((condition.get("operator") or {}).get("type", "and")).lower(),
            )
        )
    return found


def classic_command(model: Mapping[str, Any], inputs: Mapping[str, Results]) -> Results:
    """Evaluate a classic_conditions model over the results of the queries it names."""
    conditions = classic_conditions(model)
    if not conditions:
        raise ExpressionError("classic_conditions without conditions")
    firing: bool | None = None
    every_no_data = True
    matches: list[str] = []
    for index, condition in enumerate(conditions):
        ref = condition.ref
        if ref not in inputs:
            raise ExpressionError(
                f"classic condition {index + 1} reads {ref!r}, which no query defines"
            )
        reducer = condition.reducer
        if reducer not in REDUCERS:
            raise Unsupported(f"classic condition reducer {reducer!r}")
        kind = condition.evaluator
        predicate = None if kind == "no_value" else check(kind, condition.numbers())
        results = inputs[ref]
        if results.items:
            every_no_data = False
        holds = False
        for item in results.items:
            reduced = REDUCERS[reducer](_values(item))
            if predicate is None:
                holds = holds or reduced is None
            elif reduced is not None and predicate(reduced):
                holds = True
                matches.append(f"{reducer}() of {ref} = {reduced:g} on {labels_text(item.labels)}")
        if not results.items and predicate is None:
            holds = True  # no value at all: `no_value` holds
        if firing is None:
            firing = holds
        elif condition.operator == "or":
            firing = firing or holds
        else:
            firing = firing and holds
    if every_no_data:
        return Results((), no_data=True)
    return Results((Number({}, 1.0 if firing else 0.0),), matches=tuple(matches) if firing else ())
