"""The step and the interval macros Grafana computes for a Prometheus panel query.

Follows Grafana 10's Prometheus data source: the interval is the time range divided by the
panel's max data points, rounded to a "nice" value and never below the min interval (the
panel's, else the data source's scrape interval); the query's own min step raises it; and

    $__rate_interval = max($__interval + scrape interval, 4 * scrape interval)

where the scrape interval is the query's min step if set, else the data source's. Grafana
counts intervals in whole milliseconds (`intervalMs`); so does this module, rounding up so
the safe-resolution bound still holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from scanium_e2e.promql import PromQLSyntaxError, format_duration, parse_duration

# Grafana sends the panel width in pixels as max data points; 1000 is a typical panel.
DEFAULT_MAX_DATA_POINTS = 1000
# Prometheus refuses range queries of more than 11000 points.
SAFE_RESOLUTION = 11_000

# Grafana's roundInterval table: (below this many seconds, use this interval).
_ROUNDING = (
    (0.015, 0.01), (0.035, 0.02), (0.075, 0.05), (0.15, 0.1), (0.35, 0.2), (0.75, 0.5),
    (1.5, 1), (3.5, 2), (7.5, 5), (12.5, 10), (17.5, 15), (25, 20), (45, 30), (90, 60),
    (210, 120), (450, 300), (750, 600), (1050, 900), (1500, 1200), (2700, 1800),
    (5400, 3600), (9000, 7200), (16200, 10800), (24300, 21600), (64800, 43200),
    (129600, 86400), (907200, 604800), (3942000, 2592000),
)  # fmt: skip


@dataclass(frozen=True)
class QueryTiming:
    """Step and interval macros for one panel query."""

    step_s: float
    interval_s: float
    rate_interval_s: float
    range_s: float


def round_interval(seconds: float) -> float:
    """Grafana's `roundInterval`: snap to 1s, 2s, 5s, 10s, 15s, 20s, 30s, 1m, 2m, 5m..."""
    for below, interval in _ROUNDING:
        if seconds < below:
            return interval
    return 31_536_000.0


def calculate_interval(range_s: float, min_interval_s: float, max_data_points: int) -> float:
    """Grafana's interval calculator: range / max data points, rounded, at least the min."""
    raw = range_s / max(max_data_points, 1)
    if raw < min_interval_s:
        return min_interval_s
    return round_interval(raw)


def whole_ms(seconds: float) -> float:
    """`seconds` rounded up to a whole millisecond (float noise such as 1.2000000002 aside)."""
    return math.ceil(round(seconds * 1000, 6)) / 1000


def rate_interval(interval_s: float, scrape_interval_s: float) -> float:
    """`max($__interval + scrape interval, 4 * scrape interval)`."""
    return max(interval_s + scrape_interval_s, 4 * scrape_interval_s)


def duration_or(text: str, default: float) -> float:
    """Seconds in a Grafana interval setting (`15s`, `>10s`), or `default` when unset."""
    text = text.strip().lstrip("<>").strip()
    if not text:
        return default
    try:
        return parse_duration(text)
    except PromQLSyntaxError:
        return default


def query_timing(
    start: datetime,
    end: datetime,
    *,
    scrape_interval_s: float,
    panel_min_interval: str = "",
    target_min_step: str = "",
    max_data_points: int | None = None,
) -> QueryTiming:
    """Step, $__interval and $__rate_interval for a panel target over [start, end].

    `panel_min_interval` and `target_min_step` must already be interpolated (they may be
    written as `$var`); an unparsable value is ignored, like Grafana does.
    """
    range_s = max((end - start).total_seconds(), 0.001)
    points = max_data_points or DEFAULT_MAX_DATA_POINTS
    panel_interval = calculate_interval(
        range_s, duration_or(panel_min_interval, scrape_interval_s), points
    )
    min_step = duration_or(target_min_step, 0.0)
    interval = calculate_interval(range_s, max(min_step, panel_interval), points)
    interval = whole_ms(max(interval, range_s / SAFE_RESOLUTION))
    scrape = min_step or scrape_interval_s
    return QueryTiming(
        step_s=interval,
        interval_s=interval,
        rate_interval_s=rate_interval(interval, scrape),
        range_s=range_s,
    )


def macros(start: datetime, end: datetime, timing: QueryTiming | None = None) -> dict[str, str]:
    """The `$__...` macros for a query; without `timing`, only the time-range ones."""
    range_s = round((end - start).total_seconds())
    out = {
        "__range": f"{range_s}s",
        "__range_s": str(range_s),
        "__range_ms": str(round((end - start).total_seconds() * 1000)),
        "__from": str(round(start.timestamp() * 1000)),
        "__to": str(round(end.timestamp() * 1000)),
    }
    if timing is not None:
        out.update(
            {
                "__interval": format_duration(timing.interval_s),
                "__interval_ms": str(round(timing.interval_s * 1000)),
                "__rate_interval": format_duration(timing.rate_interval_s),
                "__rate_interval_ms": str(round(timing.rate_interval_s * 1000)),
            }
        )
    return out
