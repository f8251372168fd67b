"""Scrape health: `up == 1` in the store for this run's scrape of the backend."""

from __future__ import annotations

from scanium_e2e.checks.waits import pipeline_hard_error, poll_check
from scanium_e2e.clients.query import Sample
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.polling import (
    PollResult,
)


def describe_samples(samples: list[Sample]) -> str:
    """Compact text of an instant vector for messages."""
    if not samples:
        return "empty result"
    shown = "; ".join(sample.describe() for sample in samples[:6])
    more = f" (+{len(samples) - 6} more)" if len(samples) > 6 else ""
    return shown + more


def wait_for_up(pipeline: Pipeline) -> PollResult[list[Sample]]:
    """`up{job=...} == 1` in the store for this run's scrape of the backend."""
    query = pipeline.selector("up")

    def probe() -> list[Sample]:
        samples = pipeline.store.instant(query)
        if not any(sample.value == 1 for sample in samples):
            pipeline_hard_error(pipeline)
        return samples

    return poll_check(
        pipeline,
        probe,
        lambda samples: any(sample.value == 1 for sample in samples),
        what=f"`{query} == 1` in {pipeline.store_name}",
        describe=describe_samples,
        query=query,
    )
