"""Step, $__interval and $__rate_interval as Grafana computes them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dashboard_fixtures import END, START

from scanium_e2e.dashboards.intervals import macros, query_timing, rate_interval, round_interval


@pytest.mark.parametrize(
    ("raw", "rounded"), [(0.9, 1), (3, 2), (14, 15), (40, 30), (100, 120), (1000, 900)]
)
def test_round_interval(raw: float, rounded: float) -> None:
    assert round_interval(raw) == rounded


def test_rate_interval_formula() -> None:
    assert rate_interval(1, 1) == 4  # 4 x scrape wins
    assert rate_interval(60, 15) == 75  # interval + scrape wins


def test_scrape_interval_is_the_floor_of_the_interval() -> None:
    timing = query_timing(START, END, scrape_interval_s=15)
    assert timing.interval_s == 15 and timing.rate_interval_s == 60


def test_short_scrape_interval() -> None:
    timing = query_timing(START, END, scrape_interval_s=1)
    assert timing.interval_s == 1 and timing.rate_interval_s == 4


def test_max_data_points_and_panel_min_interval() -> None:
    assert query_timing(START, END, scrape_interval_s=1, max_data_points=30).interval_s == 30
    timing = query_timing(START, END, scrape_interval_s=1, panel_min_interval="2m")
    assert timing.interval_s == 120 and timing.rate_interval_s == 121


def test_target_min_step_is_the_scrape_interval_of_rate_interval() -> None:
    timing = query_timing(START, END, scrape_interval_s=1, target_min_step="30s")
    assert timing.step_s == 30 and timing.rate_interval_s == 120


def test_long_range_is_bounded_by_safe_resolution() -> None:
    timing = query_timing(END - timedelta(days=30), END, scrape_interval_s=1)
    assert (30 * 86400) / timing.step_s <= 11_000


def test_macro_strings() -> None:
    timing = query_timing(START, END, scrape_interval_s=15)
    found = macros(START, END, timing)
    assert found["__interval"] == "15s"
    assert found["__interval_ms"] == "15000"
    assert found["__rate_interval"] == "1m"
    assert found["__rate_interval_ms"] == "60000"
    assert found["__range"] == "900s"
    assert found["__range_s"] == "900"
    assert found["__range_ms"] == "900000"
    assert found["__from"] == str(int(START.timestamp() * 1000))
    assert found["__to"] == str(int(END.timestamp() * 1000))
