"""A quantile read as the counts settle can be NaN for a moment (a scrape's buckets reach
the store in another batch than its _count): the wait ends when it is a number, or at once
with its finding once a complete scrape after the traffic still gives NaN."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest
from fake_pipeline import fake_pipeline

from scanium_e2e.checks import histograms
from scanium_e2e.clients.query import Sample
from scanium_e2e.errors import CheckFailed
from scanium_e2e.findings import Kind
from scanium_e2e.secrets import Masker

QUERY = "histogram_quantile(0.95, sum by (le) (rate(latency_bucket[5m])))"


class Answers:
    """A store that answers QUERY with `values` in turn (the last repeating)."""

    name = "Cortex"

    def __init__(self, *values: float) -> None:
        self.values = list(values)
        self.asked = 0

    def own_metrics(self) -> str:
        return "cortex_distributor_received_samples_total 10\n"  # a store that refused nothing

    def instant(self, query: str, at: Any = None) -> list[Sample]:
        value = self.values[min(self.asked, len(self.values) - 1)]
        self.asked += 1
        return [Sample({}, value)]


def _pipeline(store: Answers) -> Any:
    pipeline = fake_pipeline(store=store)
    pipeline.settings = SimpleNamespace(
        scrape_interval_s=1.0, data_timeout_s=2.0, poll_interval_s=0.01
    )
    pipeline.masker = Masker()
    return pipeline


def test_a_nan_while_the_buckets_are_in_flight_is_waited_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(histograms, "complete_scrape_after", lambda *a, **k: None)
    store = Answers(math.nan, math.nan, 49.2)
    assert histograms.wait_for_quantile(_pipeline(store), QUERY, "latency_bucket", 1.0) == 49.2
    assert store.asked == 3


def test_a_nan_after_a_complete_scrape_fails_at_once_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(histograms, "complete_scrape_after", lambda *a, **k: 1.5)
    store = Answers(math.nan)
    with pytest.raises(CheckFailed) as failed:
        histograms.wait_for_quantile(_pipeline(store), QUERY, "latency_bucket", 1.0)
    assert Kind.ALL_NAN in [getattr(finding, "kind", None) for finding in failed.value.findings]
    assert "every value is NaN" in str(failed.value).splitlines()[0]
    # One read, one more at the same moment once final, one by the diagnosis: no polling on.
    assert store.asked == 3
