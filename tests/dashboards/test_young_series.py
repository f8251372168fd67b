"""A rate() panel over a series two scrapes old: empty at the panel's steps, never final.

CI on 1a10958 (2026-12-07): the suite replayed a dashboard right after the counts settled,
when the traffic's series had two samples, 5 s apart, the second under 5 s before the end
of the window. The panel's range query evaluates `rate(x[20s])` every 5 s from the window's
start; no step had both samples in its range, so every rate panel was empty. The
explanation counted samples at a 1 s step instead, found two, blamed the operators
(`OPERATORS_EMPTIED`), and that finding is final once the traffic is: seven panels failed
on a healthy pipeline that the next scrape would have filled.

The store here keeps each sample's timestamp and evaluates the two query shapes the replay
sends (`sum(rate(sel[r]))` and `count_over_time(sel[r])`) at `start + k * step`, as
Prometheus does, so the step the explanation uses is what decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from scanium_e2e.checks.dashboards import settled_empty
from scanium_e2e.clients.query import Sample, Series
from scanium_e2e.dashboards import DATA, EMPTY, PanelResult, check_dashboard, parse_dashboard
from scanium_e2e.findings import Kind

START = datetime(2026, 12, 7, 6, 59, 11, tzinfo=UTC)
END = START + timedelta(seconds=134.7)  # the CI run's window: the last 5 s step is END - 4.7 s
LABELS = {"__name__": "requests_total", "job": "api"}
QUERY = 'sum(rate(requests_total{job="api"}[20s]))'
_SHAPE = re.compile(r"(?P<fn>count_over_time|sum\(rate)\((?P<sel>[^\[]+)\[(?P<range>\d+)s\]\)+")


@dataclass
class TimedStore:
    """One series with sample timestamps; the QueryClient protocol over it."""

    times: list[float]

    def _counts(
        self, start: datetime, end: datetime, step_s: float, range_s: float
    ) -> Iterator[tuple[float, int]]:
        at = start.timestamp()
        while at <= end.timestamp() + 1e-9:
            yield at, sum(1 for t in self.times if at - range_s < t <= at)
            at += step_s

    def range(self, query: str, start: datetime, end: datetime, step_s: float) -> list[Series]:
        shape = _SHAPE.fullmatch(query)
        assert shape, f"the store stub does not evaluate {query!r}"
        counts = list(self._counts(start, end, step_s, float(shape["range"])))
        if shape["fn"] == "count_over_time":
            points = [(at, float(n)) for at, n in counts if n]
            return [Series(dict(LABELS), points)] if points else []
        points = [(at, 1.0) for at, n in counts if n >= 2]
        return [Series({}, points)] if points else []

    def instant(self, query: str, at: datetime | None = None) -> list[Sample]:
        return []

    def series(self, match: str, start: datetime, end: datetime) -> list[dict[str, str]]:
        return [dict(LABELS)] if self._in(start, end) else []

    def label_values(
        self,
        label: str,
        match: str = "",
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[str]:
        return [LABELS[label]] if label in LABELS else []

    def label_names(
        self, match: str = "", start: datetime | None = None, end: datetime | None = None
    ) -> list[str]:
        return sorted(LABELS)

    def metric_names(self, start: datetime | None = None, end: datetime | None = None) -> list[str]:
        return [LABELS["__name__"]]

    def _in(self, start: datetime, end: datetime) -> bool:
        return any(start.timestamp() <= t <= end.timestamp() for t in self.times)


def _replay(store: TimedStore, end: datetime = END) -> PanelResult:
    dashboard = parse_dashboard(
        {
            "title": "Requests",
            "panels": [
                {
                    "id": 2,
                    "title": "Requests / s",
                    "type": "timeseries",
                    "targets": [{"refId": "A", "expr": QUERY}],
                }
            ],
        },
        source="requests.json",
    )
    result = check_dashboard(store, dashboard, START, end, scrape_interval_s=5)
    return result.panels[0]


def test_a_series_two_scrapes_old_is_empty_for_now_not_emptied_by_operators() -> None:
    last = END.timestamp()
    panel = _replay(TimedStore([last - 7.0, last - 2.0]))
    assert panel.status == EMPTY
    kinds = [finding.kind for finding in panel.findings]
    assert kinds == [Kind.SAMPLES_AFTER_LAST_STEP], [f.render() for f in panel.findings]
    assert not settled_empty(panel, traffic_final=True)  # the replay keeps waiting
    sentence = panel.findings[0].render()
    assert "at most 1 sample in any [20s] range at the query's 5s steps" in sentence
    assert "2 first in the range ending at 07:01:24 UTC" in sentence
    assert "a later replay has data" in sentence


def test_the_next_scrape_fills_the_same_panel() -> None:
    last = END.timestamp()
    later = END + timedelta(seconds=5)
    panel = _replay(TimedStore([last - 7.0, last - 2.0, last + 3.0]), end=later)
    assert panel.status == DATA, panel.detail


def test_samples_that_no_step_ever_pairs_are_too_few_whatever_the_wait() -> None:
    # One sample only: no range anywhere holds two, so the advice is about the range.
    panel = _replay(TimedStore([END.timestamp() - 60.0]))
    assert [finding.kind for finding in panel.findings] == [Kind.TOO_FEW_SAMPLES]
    assert not settled_empty(panel, traffic_final=True)


def test_an_older_series_has_data_at_its_steps() -> None:
    # Three samples well inside the window: steps pair them, so the rate panel has data.
    last = END.timestamp()
    panel = _replay(TimedStore([last - 40.0, last - 35.0, last - 30.0]))
    assert panel.status == DATA, panel.detail
