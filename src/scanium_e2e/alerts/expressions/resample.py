"""The `resample` expression: each series onto a regular grid of `window` seconds.

Points are at from, from + window, ... up to `to` (the expression's time range). A grid
point takes the downsampler (mean, min, max, sum, last; strict, as reduce) of the values in
(t - window, t]; a point with none takes the upsampler: `pad` the last value before it,
`backfilling` the next one after it, `fillna` null. Numbers and no data pass through.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scanium_e2e.alerts.expressions.reduce import reduce_values
from scanium_e2e.alerts.expressions.values import (
    ExpressionError,
    Item,
    Results,
    Series,
    Unsupported,
    Value,
)
from scanium_e2e.promql import PromQLSyntaxError, parse_duration

DOWNSAMPLERS = ("mean", "min", "max", "sum", "last")
UPSAMPLERS = ("pad", "backfilling", "fillna")


def _window(model: Mapping[str, Any]) -> float:
    text = str(model.get("window", "")).strip()
    try:
        seconds = parse_duration(text)
    except PromQLSyntaxError:
        raise ExpressionError(f"resample window {text!r} is not a duration") from None
    if seconds <= 0:
        raise ExpressionError(f"resample window {text!r} must be positive")
    return seconds


def _resample(
    series: Series, window: float, down: str, up: str, start: float, end: float
) -> Series:
    points = list(series.points)
    grid: list[tuple[float, Value]] = []
    t = start
    while t <= end + 1e-9:
        inside = [v for ts, v in points if t - window < ts <= t]
        if inside:
            grid.append((t, reduce_values(inside, down, "strict", 0.0)))
        elif up == "pad":
            before = [v for ts, v in points if ts <= t]
            grid.append((t, before[-1] if before else None))
        elif up == "backfilling":
            after = [v for ts, v in points if ts > t]
            grid.append((t, after[0] if after else None))
        else:
            grid.append((t, None))
        t += window
    return Series(series.labels, tuple(grid))


def resample_command(
    model: Mapping[str, Any], source: Results, start: float, end: float
) -> Results:
    """Evaluate a resample expression's model over [start, end] (unix seconds)."""
    window = _window(model)
    down = str(model.get("downsampler") or "last")
    up = str(model.get("upsampler") or "fillna")
    if down not in DOWNSAMPLERS:
        raise Unsupported(f"resample downsampler {down!r}")
    if up not in UPSAMPLERS:
        raise Unsupported(f"resample upsampler {up!r}")
    if source.no_data:
        return source
    out: list[Item] = []
    for item in source.items:
        out.append(
            _resample(item, window, down, up, start, end) if isinstance(item, Series) else item
        )
    return Results(tuple(out))
