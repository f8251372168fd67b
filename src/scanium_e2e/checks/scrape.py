"""Scrape health: `up == 1` in the store for this run's scrape of the backend."""

from __future__ import annotations

from scanium_e2e.checks.waits import pipeline_hard_error, poll_check
from scanium_e2e.clients.alloy import ScrapeTarget
from scanium_e2e.clients.query import Sample
from scanium_e2e.errors import EndpointError
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.polling import HardError, PollResult


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


def wait_for_scrape_after(pipeline: Pipeline, moment: float) -> PollResult[list[ScrapeTarget]]:
    """Alloy has scraped the backend, successfully, in a scrape that began after `moment`.

    `moment` is Unix seconds (the end of a traffic wave): such a scrape holds every
    request of the wave, so the wave's series have their first sample in Alloy's WAL.
    """
    component = pipeline.contract.scrape.component

    def scraped(targets: list[ScrapeTarget]) -> bool:
        return any(target.up and (target.last_scrape_at or 0.0) > moment for target in targets)

    def probe() -> list[ScrapeTarget]:
        try:
            targets = pipeline.alloy.scrape_targets(component)
        except EndpointError as exc:  # no such component: waiting will not create it
            raise HardError(str(exc)) from None
        if not scraped(targets):
            pipeline_hard_error(pipeline, targets)
        return targets

    def describe(targets: list[ScrapeTarget]) -> str:
        if not targets:
            return f"{component} has no target yet"
        return "; ".join(
            f"{target.describe()}, last scrape {target.last_scrape or 'never'}"
            for target in targets
        )

    return poll_check(
        pipeline,
        probe,
        scraped,
        what=f"Alloy's {component} scraping the backend after the first traffic wave",
        describe=describe,
    )
