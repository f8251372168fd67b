"""The pipeline's reading of /metrics (Pipeline.recent_backend_metrics): reused by the
diagnosis's sentences for a few scrape intervals, never for a decision on what /metrics
holds when it began before the moment that decision needs (the traffic's end)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import httpx

from scanium_e2e.pipeline import Pipeline


def pipeline_counting_reads() -> tuple[Pipeline, list[float]]:
    pipeline = Pipeline.__new__(Pipeline)
    reads: list[float] = []

    def backend_metrics() -> httpx.Response:
        reads.append(time.time())
        return httpx.Response(200, text=f"reads_total {len(reads)}\n")

    pipeline.settings = SimpleNamespace(scrape_interval_s=1.0)  # type: ignore[assignment]
    pipeline.memo = {}
    pipeline._metrics_lock = threading.Lock()
    pipeline.backend_metrics = backend_metrics  # type: ignore[method-assign]
    return pipeline, reads


def test_a_recent_reading_is_reused_for_sentences() -> None:
    pipeline, reads = pipeline_counting_reads()
    first = pipeline.recent_backend_metrics()
    assert pipeline.recent_backend_metrics() is first and len(reads) == 1


def test_a_decision_after_a_moment_takes_a_reading_begun_after_it() -> None:
    pipeline, reads = pipeline_counting_reads()
    before = pipeline.recent_backend_metrics()
    traffic_ended = time.time()
    after = pipeline.recent_backend_metrics(not_before=traffic_ended)
    assert after is not before and len(reads) == 2 and after.began >= traffic_ended
    # That newer reading serves later sentences and decisions alike.
    assert pipeline.recent_backend_metrics() is after
    assert pipeline.recent_backend_metrics(not_before=traffic_ended) is after


def test_a_prefetch_starts_no_second_read_while_one_is_recent_or_under_way() -> None:
    pipeline, reads = pipeline_counting_reads()
    pipeline.prefetch_backend_metrics()
    # The diagnosis awaits the read under way rather than starting its own.
    reading = pipeline.recent_backend_metrics()
    for _ in range(5):  # every poll of a failing scrape asks again
        pipeline.prefetch_backend_metrics()
    assert len(reads) == 1 and pipeline.recent_backend_metrics() is reading
