"""The range query's `step` on the wire: a form the Prometheus API parses, for any window.

Prometheus reads `step` as a float number of seconds or as a duration of whole units
(`1200ms`, `1m30s`); `1.2s` is neither and is refused (`400 bad_data: cannot parse "1.2s"
to a valid duration`). The replay goes through a real StoreClient to a local HTTP server,
so what is checked is the parameter as sent.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from dashboard_fixtures import END
from store_stub import serve_store

from scanium_e2e.clients.query import StoreClient, step_param
from scanium_e2e.dashboards import check_dashboard, parse_dashboard

# What Prometheus' parseDuration accepts (web/api/v1/api.go): a plain decimal number of
# seconds, else model.ParseDuration's whole-unit form. Written out here, not imported.
_FLOAT = re.compile(r"[0-9]+(\.[0-9]+)?")
_DURATION = re.compile(r"([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?")


_UNIT_S = {"y": 31_536_000, "w": 604_800, "d": 86_400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}


def prometheus_seconds(text: str) -> float:
    """Seconds in `text` as Prometheus parses a `step`; AssertionError when it would refuse."""
    if _FLOAT.fullmatch(text):
        return float(text)
    assert text and _DURATION.fullmatch(text), f"Prometheus cannot parse {text!r} to a duration"
    return sum(
        int(count) * _UNIT_S[unit] for count, unit in re.findall(r"([0-9]+)(ms|[ywdhms])", text)
    )


RANGE_ANSWER = {
    "status": "success",
    "data": {
        "resultType": "matrix",
        "result": [{"metric": {"__name__": "up"}, "values": [[END.timestamp(), "1"]]}],
    },
}

H3M17 = 3 * 3600 + 17 * 60


# Grafana's arithmetic, worked by hand: range / max data points (1000 unless set), snapped
# to Grafana's rounding table, never below the scrape interval, never more than 11,000
# points (range / 11000, rounded up to a whole millisecond).
@pytest.mark.parametrize(
    ("window_s", "scrape_s", "max_points", "expected_s"),
    [
        (7, 1, None, 1),
        (7, 1.5, None, 1.5),
        (7, 15, None, 15),
        (123.4, 1, None, 1),
        (123.4, 1.5, None, 1.5),
        (123.4, 15, None, 15),
        (H3M17, 1, None, 10),  # 11.82 s rounds to 10 s
        (H3M17, 1.5, None, 10),
        (H3M17, 15, None, 15),
        (H3M17, 1, 20_000, 1.075),  # 11820 / 11000 = 1.0745... -> 1.075
        (H3M17, 1.5, 20_000, 1.5),
    ],
)
def test_replayed_step_is_a_prometheus_duration_and_grafanas(
    window_s: float, scrape_s: float, max_points: int | None, expected_s: float
) -> None:
    panel: dict[str, object] = {
        "id": 1,
        "title": "Up",
        "type": "timeseries",
        "targets": [{"refId": "A", "expr": "up"}],
    }
    if max_points is not None:
        panel["maxDataPoints"] = max_points
    dashboard = parse_dashboard({"title": "Steps", "panels": [panel]}, source="steps.json")
    with serve_store() as store:
        store.answers["/prometheus/api/v1/query_range"] = [(200, RANGE_ANSWER)]
        client = StoreClient(store.url, timeout_s=5)
        try:
            result = check_dashboard(
                client,
                dashboard,
                END - timedelta(seconds=window_s),
                END,
                scrape_interval_s=scrape_s,
                explain=False,
            )
        finally:
            client.close()
    assert result.ok, result.panels[0].detail
    steps = [seen.params["step"][0] for seen in store.seen if seen.path.endswith("/query_range")]
    assert len(steps) == 1
    assert prometheus_seconds(steps[0]) == pytest.approx(expected_s, abs=1e-9)


@pytest.mark.parametrize(
    ("step_s", "wire"),
    [
        (1.2, "1.2"),  # a 10 min window / 500: the explanation's count_over_time step
        (1.0, "1"),
        (1.5, "1.5"),
        (15, "15"),
        (23.64, "23.64"),  # 3 h 17 min / 500
        (0.2468, "0.247"),  # 123.4 s / 500, rounded up to a whole millisecond
        (11820 / 11000, "1.075"),
        (30 * 86400 / 11000, "235.637"),
        (0.0001, "0.001"),  # never zero: Prometheus refuses a zero step
        (86400, "86400"),
    ],
)
def test_step_param_is_float_seconds_in_whole_milliseconds(step_s: float, wire: str) -> None:
    assert step_param(step_s) == wire
    assert prometheus_seconds(wire) >= step_s - 1e-9
