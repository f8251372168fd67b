"""The `threshold` expression: is each number (or each point) above, below, in or out of a
range? Gives 1 or 0 per item, labels kept; null stays null; NaN compares false.

Types: gt, lt (one parameter), within_range, outside_range (two, exclusive bounds), and
within_range_included, outside_range_included (inclusive bounds). The evaluator is read
from `conditions[0].evaluator`, as Grafana stores it. A recovery threshold
(`unloadEvaluator`) applies only to instances already firing; the suite evaluates each rule
from a fresh state, where no instance is firing yet, so it is not used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from scanium_e2e.alerts.expressions.values import (
    ExpressionError,
    Item,
    Number,
    Results,
    Series,
    Unsupported,
    Value,
)

_ONE_PARAMETER: Mapping[str, Callable[[float, float], bool]] = {
    "gt": lambda v, x: v > x,
    "lt": lambda v, x: v < x,
}
_TWO_PARAMETERS: Mapping[str, Callable[[float, float, float], bool]] = {
    "within_range": lambda v, x, y: x < v < y,
    "outside_range": lambda v, x, y: v < x or v > y,
    "within_range_included": lambda v, x, y: x <= v <= y,
    "outside_range_included": lambda v, x, y: v <= x or v >= y,
}
TYPES = (*_ONE_PARAMETER, *_TWO_PARAMETERS)


def evaluator_of(model: Mapping[str, Any]) -> tuple[str, tuple[float, ...]]:
    """(type, params) of a threshold model."""
    conditions = model.get("conditions") or []
    if not conditions or not isinstance(conditions[0], dict):
        raise ExpressionError("threshold expression without `conditions[0].evaluator`")
    evaluator = conditions[0].get("evaluator") or {}
    kind = str(evaluator.get("type", ""))
    params = tuple(float(p) for p in evaluator.get("params") or [])
    return kind, params


def check(kind: str, params: Sequence[float]) -> Callable[[float], bool]:
    """A predicate over values for an evaluator type and its parameters."""
    if kind in _ONE_PARAMETER:
        if len(params) < 1:
            raise ExpressionError(f"threshold type {kind} needs one parameter")
        one = _ONE_PARAMETER[kind]
        return lambda v: one(v, params[0])
    if kind in _TWO_PARAMETERS:
        if len(params) < 2:
            raise ExpressionError(f"threshold type {kind} needs two parameters")
        two = _TWO_PARAMETERS[kind]
        return lambda v: two(v, params[0], params[1])
    raise Unsupported(f"threshold type {kind!r}")


def _judge(predicate: Callable[[float], bool], value: Value) -> Value:
    if value is None:
        return None
    return 1.0 if predicate(value) else 0.0  # NaN: every comparison is false


def threshold_command(model: Mapping[str, Any], source: Results) -> Results:
    """Evaluate a threshold expression's model on the results of its input."""
    kind, params = evaluator_of(model)
    predicate = check(kind, params)
    if source.no_data:
        return source
    out: list[Item] = []
    for item in source.items:
        if isinstance(item, Number):
            out.append(Number(item.labels, _judge(predicate, item.value)))
        else:
            out.append(
                Series(item.labels, tuple((t, _judge(predicate, v)) for t, v in item.points))
            )
    return Results(tuple(out))
