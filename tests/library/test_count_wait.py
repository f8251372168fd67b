"""CountWait: the state of one count wait (is a match final, which deviation came first)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import cast

import pytest

from scanium_e2e.checks import waits
from scanium_e2e.checks.counts import CountWait
from scanium_e2e.clients.query import Sample
from scanium_e2e.errors import CheckFailed
from scanium_e2e.findings import Finding, Kind
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.traffic.run import Counts

METRIC = "scanium_assistant_requests_total"
BY = ("provider", "status")
TRAFFIC_ENDED = 1000.0


class ScriptedStore:
    """Answers the count query with `counts`, and `timestamp()` with the next stamp."""

    def __init__(self, counts: Counts, stamps: list[float]) -> None:
        self.counts = counts
        self.stamps = stamps
        self.queries = []

    resets: float | None = None
    queries: list[str]

    def instant(self, query: str, at: datetime | None = None) -> list[Sample]:
        self.queries.append(query)
        if query.startswith("sum(resets("):
            return [] if self.resets is None else [Sample({}, self.resets)]
        if query.startswith("min(timestamp("):
            stamp = self.stamps.pop(0) if len(self.stamps) > 1 else self.stamps[0]
            return [Sample({}, stamp)]
        assert query.startswith("sum by (provider, status)"), query
        return [
            Sample(dict(zip(BY, key, strict=True)), value) for key, value in self.counts.items()
        ]


def fake_pipeline(store: ScriptedStore) -> Pipeline:
    return cast(
        Pipeline,
        SimpleNamespace(
            selector=lambda metric, **labels: f'{metric}{{job="scanium-backend"}}',
            store=store,
            store_name="Cortex",
            settings=SimpleNamespace(
                data_timeout_s=5.0, poll_interval_s=0.01, scrape_interval_s=1.0
            ),
            masker=SimpleNamespace(mask=lambda text: text),
            contract=SimpleNamespace(status_error="error", status_success="success"),
        ),
    )


def count_wait(store: ScriptedStore, expected: Counts, found: list[Finding]) -> CountWait:
    return CountWait(
        fake_pipeline(store),
        what="requests",
        metric=METRIC,
        by=BY,
        expected=expected,
        baseline={},
        exact=True,
        note_deviation=found.append,
        traffic_ended=TRAFFIC_ENDED,
    )


def test_a_match_read_mid_traffic_is_final_only_once_scraped_after_it() -> None:
    planned: Counts = {("openai", "success"): 3.0}
    store = ScriptedStore(planned, stamps=[TRAFFIC_ENDED - 5, TRAFFIC_ENDED + 1])
    wait = count_wait(store, planned, [])
    assert not wait.final
    assert wait.probe() == planned
    assert not wait.final and not wait.settled(planned)  # the samples predate the traffic's end
    assert wait.run() == planned
    assert wait.final and wait.deviation is None


def test_a_moved_count_is_noted_and_named_first(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_diagnosis(pipeline: Pipeline, message: str, **kwargs: object) -> CheckFailed:
        return CheckFailed(message)

    monkeypatch.setattr(waits, "fail_with_diagnosis", no_diagnosis)
    planned: Counts = {("openai", "success"): 3.0, ("openai", "error"): 2.0}
    store = ScriptedStore({("openai", "success"): 5.0}, stamps=[TRAFFIC_ENDED + 1])
    found: list[Finding] = []
    wait = count_wait(store, planned, found)
    with pytest.raises(CheckFailed) as failed:
        wait.run()
    assert wait.deviation is not None
    assert wait.deviation.kind == Kind.FAILURES_COUNTED_AS_SUCCESS
    assert found == [wait.deviation]
    assert failed.value.findings == (wait.deviation,)
    assert str(failed.value).startswith(wait.deviation.render() + ".\n")


def test_a_shortfall_reads_the_counter_resets_since_the_traffic_began() -> None:
    store = ScriptedStore({("openai", "success"): 1.0}, stamps=[TRAFFIC_ENDED + 1])
    store.resets = 2.0
    wait = count_wait(store, {("openai", "success"): 3.0}, [])
    assert wait._resets(datetime.fromtimestamp(TRAFFIC_ENDED + 10, UTC)) == 0  # no start known
    wait.traffic_started = TRAFFIC_ENDED - 10
    assert wait._resets(datetime.fromtimestamp(TRAFFIC_ENDED + 10, UTC)) == 2
    # From the traffic's start, two scrape intervals earlier, to the verdict's moment.
    assert store.queries[-1] == f'sum(resets({METRIC}{{job="scanium-backend"}}[22s]))'
