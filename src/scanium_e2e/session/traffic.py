"""The session's traffic, sent in two waves so that rates have something to measure.

A labelled counter or histogram series appears only with its first observation, and
`rate()`/`increase()` cannot count what happened before a series' first sample. Traffic
sent faster than one scrape would leave every dashboard rate at zero. So a first, small
wave creates the series; once a scrape holds it, the second wave adds the rest, and its
increase is visible to every rate-based query (as it is in production, where the seed
notes that panels need two scrapes).

In a stack started here the store is fresh, so wave 1 goes out as soon as the backend
answers, before Alloy's first scrape (Alloy v1.0 creates its scrape pools 5 s after it
starts), and wave 2 follows the first scrape that began after wave 1 ended, read from
Alloy's component API: the wait rides on the scrape, not on a round trip through the
store. Whether the store counts both waves exactly is the count checks' business. Against
a deployment (external mode) the store holds history: the run waits for `up == 1`, takes
its baseline, and lets wave 2 follow once the store shows wave 1's successes.

`run_traffic` records how long each wave took on the `TrafficRun` it returns (`timings`):
sending wave 1, waiting until it was scraped (or, external, shown by the store), sending
wave 2 (seconds, `time.monotonic`).
"""

from __future__ import annotations

import dataclasses
import time

from scanium_e2e.checks.counts import count_baselines, wait_for_successes
from scanium_e2e.checks.expectations import planned_counts
from scanium_e2e.checks.scrape import wait_for_scrape_after, wait_for_up
from scanium_e2e.contract import Contract
from scanium_e2e.errors import CheckFailed
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.progress import is_main, phase
from scanium_e2e.settings import Settings
from scanium_e2e.traffic import Ledger, TrafficPlan, send_traffic
from scanium_e2e.traffic.plan import probe_delays_ms
from scanium_e2e.traffic.run import TrafficRun

# The remaining (requests, tokens) the stub LLM's answers state in their rate-limit headers,
# per wave: they differ, so a backend's gauges show wave 2's only if they follow the latest.
RATE_LIMITS_BY_WAVE = ((4_990, 159_500), (4_980, 159_000))


def merge_ledgers(first: Ledger, second: Ledger) -> Ledger:
    """One ledger holding both waves (entries renumbered to keep plan order)."""
    offset = max((entry.seq for entry in first.entries), default=0) + 1
    merged = dataclasses.replace(
        first,
        finished_at=max(first.finished_at, second.finished_at),
        entries=[
            *first.entries,
            *(dataclasses.replace(entry, seq=entry.seq + offset) for entry in second.entries),
        ],
        surprises=[*first.surprises, *second.surprises],
        canaries=first.canaries or second.canaries,
        retry_wait_s=first.retry_wait_s + second.retry_wait_s,
        retry_after_answers=first.retry_after_answers + second.retry_after_answers,
        rate_limits={
            limit: first.rate_limits.get(limit, 0) + second.rate_limits.get(limit, 0)
            for limit in {**first.rate_limits, **second.rate_limits}
        },
    )
    return merged


def _rotated(items: tuple[str, ...], start: int) -> tuple[str, ...]:
    """`items` starting at index `start` (cyclically)."""
    if not items:
        return items
    start %= len(items)
    return items[start:] + items[:start]


def session_plan(settings: Settings, contract: Contract | None = None) -> TrafficPlan:
    """The traffic a verification run sends: its size from settings, canaries planted.

    Given the contract, every path it defines runs: successes after the probe carry stub
    delays that land one in each latency bucket up to 1 s, and the first provider error one
    too (`probe_delays_ms`), so the latency histogram's observations can be checked bucket
    by bucket; each fault the contract maps to error labels is injected at least once; and
    the probe is repeated as often as the contract's cache section says, so cache hits are
    counted and judged. Successes state planned rate limits (`RATE_LIMITS_BY_WAVE`), so the
    backend's rate-limit gauges have known values.
    """
    delays: tuple[int, ...] = ()
    faults: tuple[str, ...] = ("500",)
    repeats = 0
    errors = settings.traffic_errors
    if contract is not None:
        scale = contract.latency.ms_per_unit
        delays = probe_delays_ms([bound * scale for bound in contract.latency.buckets])
        if contract.faults:
            faults = tuple(contract.faults)
            # Every fault kind at least once (none at all only when asked for none).
            errors = max(errors, len(faults)) if errors else 0
        repeats = contract.cache.repeats if settings.traffic_successes else 0
    return TrafficPlan(
        success_delays_ms=delays,
        error_delays_ms=delays[1:2],
        api_key=settings.api_key,
        bearer_token=settings.bearer_token,
        run_id=settings.run_id,
        provider=settings.provider,
        successes=settings.traffic_successes,
        cache_repeats=repeats,
        provider_errors=errors,
        faults=faults,
        rate_limits=RATE_LIMITS_BY_WAVE[0],
        canaries=True,
    )


def _wave_line(number: int, ledger: Ledger, seconds: float) -> str:
    """`traffic wave 1: 12 requests in 0.9 s, 12 as planned` (and the rate limits)."""
    surprises = len(ledger.surprises)
    line = (
        f"traffic wave {number}: {len(ledger.entries)} requests in {seconds:.1f} s, "
        f"{len(ledger.entries) - surprises if surprises <= len(ledger.entries) else 0} as planned"
    )
    note = ledger.rate_limit_note()
    return f"{line}; {note}" if note else line


def _gate_line(fresh_store: bool, seconds: float, failure: CheckFailed | None) -> str:
    """What wave 2 waited for, and how long."""
    if failure is not None:
        first = str(failure).splitlines()[0] if str(failure) else "the pipeline is cut"
        return f"no scrape holds wave 1 after {seconds:.1f} s ({first}); wave 2 goes out anyway"
    if fresh_store:
        return f"Alloy's first scrape after wave 1: {seconds:.1f} s"
    return f"the store shows wave 1 after {seconds:.1f} s"


def run_traffic(pipeline: Pipeline, plan: TrafficPlan) -> TrafficRun:
    """Snapshot the store's counts, then send `plan` in two waves, the second after a
    scrape holds the first (external mode: once `up == 1` and the store shows it)."""
    fresh_store = pipeline.stack.started_here
    if not fresh_store:
        wait_for_up(pipeline)
    baseline = count_baselines(pipeline)
    # Wave 1 holds the delayed requests: it goes out while Alloy has not scraped yet.
    first_successes = min(plan.successes, 1 + len(plan.success_delays_ms))
    # Cache repeats copy their wave's probe: wave 2's, unless it has no success.
    repeats_later = plan.successes > first_successes
    first_plan = dataclasses.replace(
        plan,
        successes=first_successes,
        cache_repeats=0 if repeats_later else plan.cache_repeats,
        provider_errors=min(plan.provider_errors, max(1, len(plan.error_delays_ms))),
    )
    second_plan = dataclasses.replace(
        plan,
        successes=plan.successes - first_plan.successes,
        cache_repeats=plan.cache_repeats if repeats_later else 0,
        provider_errors=plan.provider_errors - first_plan.provider_errors,
        # Wave 2 goes on through the faults where wave 1 stopped: each one runs.
        faults=_rotated(plan.faults, first_plan.provider_errors),
        success_delays_ms=(),
        error_delays_ms=(),
        validation_errors=0,
        unauthorized=0,
        unknown_route=0,
        canaries=False,
        rate_limits=RATE_LIMITS_BY_WAVE[1] if plan.rate_limits else None,
    )
    base_url = pipeline.endpoints.backend_url
    timings: dict[str, float] = {}
    began = time.monotonic()
    first = send_traffic(base_url, first_plan)
    timings["wave1_send_s"] = time.monotonic() - began
    phase(_wave_line(1, first, timings["wave1_send_s"]), main=is_main(pipeline))
    began = time.monotonic()
    gate_failure: CheckFailed | None = None
    try:
        if fresh_store:
            wait_for_scrape_after(pipeline, first.finished_at)
        else:
            # The gate: the first wave's successes are counted. How failures are counted
            # is the requests check's business, not a reason to stop every other check.
            expected = planned_counts(first, pipeline.contract)["requests"]
            wait_for_successes(
                pipeline,
                what="first traffic wave",
                planned=expected,
                baseline=baseline["requests"],
                not_before=first.finished_at,
            )
    except CheckFailed as exc:
        # The pipeline is cut: no scrape will hold wave 1. Wave 2 still goes out, so the
        # tests of what was sent and answered (and of leaks in /metrics and logs) still
        # judge the whole plan; the tests that read the store fail with this.
        gate_failure = exc
    timings["wave1_gate_s"] = time.monotonic() - began
    phase(_gate_line(fresh_store, timings["wave1_gate_s"], gate_failure), main=is_main(pipeline))
    began = time.monotonic()
    second = send_traffic(base_url, second_plan)
    timings["wave2_send_s"] = time.monotonic() - began
    phase(_wave_line(2, second, timings["wave2_send_s"]), main=is_main(pipeline))
    return TrafficRun(
        ledger=merge_ledgers(first, second),
        baseline=baseline,
        timings=timings,
        gate_failure=gate_failure,
    )
