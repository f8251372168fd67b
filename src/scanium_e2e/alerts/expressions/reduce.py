"""The `reduce` expression: each series to one number, as Grafana's Reduce does.

Functions: last, mean, min, max, sum, count, median. Modes (`settings.mode`):
- strict (the default, "" too): the series as it is; a null or NaN (or an infinity for
  min/max/mean/sum) makes the result NaN; an empty series gives NaN, except sum 0 and
  count 0.
- dropNN: null, NaN and infinities are dropped first.
- replaceNN: they are replaced by `settings.replaceWithValue` first.
A number passes through a reduce unchanged (a mode still applies to it: dropNN drops a
non-numeric number, replaceNN replaces it). No data stays no data.
"""

from __future__ import annotations

import math
import statistics
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
    is_number,
)

MODES = ("strict", "dropNN", "replaceNN")


def _strict(values: Sequence[Value]) -> list[float] | None:
    """The values as floats, or None when one is null or NaN (the result is then NaN)."""
    if any(v is None or math.isnan(v) for v in values):
        return None
    return [float(v) for v in values if v is not None]


def _last(values: list[float]) -> float:
    return values[-1] if values else math.nan


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values) if values else math.nan


def _min(values: list[float]) -> float:
    return min(values) if values else math.nan


def _max(values: list[float]) -> float:
    return max(values) if values else math.nan


def _median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else math.nan


FUNCTIONS: Mapping[str, Callable[[list[float]], float]] = {
    "last": _last,
    "mean": _mean,
    "min": _min,
    "max": _max,
    "sum": math.fsum,
    "median": _median,
}


def reduce_values(values: Sequence[Value], function: str, mode: str, replace_with: float) -> float:
    """One number from `values` by `function` in `mode`."""
    if function == "count" and mode == "strict":
        return float(len(values))
    if mode == "dropNN":
        kept = [v for v in values if v is not None and is_number(v)]
    elif mode == "replaceNN":
        kept = [v if v is not None and is_number(v) else replace_with for v in values]
    else:
        strict = _strict(values)
        if strict is None:
            return math.nan
        kept = strict
    if function == "count":
        return float(len(kept))
    return FUNCTIONS[function](kept)


def reduce_command(model: Mapping[str, Any], source: Results) -> Results:
    """Evaluate a reduce expression's model on the results of its input."""
    function = str(model.get("reducer", "")).lower()
    if function not in FUNCTIONS and function != "count":
        raise Unsupported(f"reduce function {model.get('reducer')!r}")
    settings = model.get("settings") or {}
    mode = str(settings.get("mode") or "strict")
    if mode not in MODES:
        raise Unsupported(f"reduce mode {mode!r}")
    replace_with = float(settings.get("replaceWithValue", 0) or 0)
    if source.no_data:
        return source
    out: list[Item] = []
    for item in source.items:
        if isinstance(item, Series):
            value = reduce_values([v for _, v in item.points], function, mode, replace_with)
            out.append(Number(item.labels, value))
        elif isinstance(item, Number):
            if mode == "dropNN" and not is_number(item.value):
                continue
            if mode == "replaceNN" and not is_number(item.value):
                out.append(Number(item.labels, replace_with))
                continue
            out.append(item)
        else:  # pragma: no cover - Results holds only numbers and series
            raise ExpressionError(f"can only reduce numbers or series, got {item!r}")
    return Results(tuple(out))
