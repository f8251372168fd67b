"""The response cache's path: hits counted as hits, and the hit-rate gauge kept.

The plan repeats its first success (the contract's `cache.repeats` times); the contract
says each repeat is answered from the cache. So the requests counter, split by its cache
label, must show exactly that many hits, every other request it counts as a miss. The
split is judged against the counter's own total, not against the plan: how many requests
were counted is the requests test's business, so a request counted twice does not fail
this one. The gauge is judged against the ledger, not against the counter, so cache hits
mislabelled in the counter fail only the split, and a gauge never updated only the gauge.

Both are final once the store holds samples scraped after the traffic ended: nothing
moves them afterwards. A split read from a counter that went down during the traffic (a
reset) cannot be judged: the check says it depends on the reset, which the request counts
check names.
"""

from __future__ import annotations

import math
from datetime import datetime

from scanium_e2e.checks.counts import (
    RECORDING_MARGIN_S,
    describe_counts,
    raise_if_never_arrives,
    read_counts,
    resets_since,
    scraped_after,
    sum_by,
)
from scanium_e2e.checks.expectations import count_queries, planned_counts
from scanium_e2e.checks.waits import poll_check
from scanium_e2e.clients.query import utc_now
from scanium_e2e.contract import CacheSpec
from scanium_e2e.findings import Finding, Kind
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.polling import HardError
from scanium_e2e.traffic.run import Counts, TrafficRun

# Two floats from one division agree to this much; a gauge is a float64.
GAUGE_TOLERANCE = 1e-9


def cache_repeats(run: TrafficRun) -> int:
    """How many requests of the run repeat an earlier one (the cache must answer them)."""
    return run.ledger.count("cache_repeat")


def expected_split(cache: CacheSpec, repeats: float, increase: Counts) -> Counts:
    """Hits: the plan's repeats; misses: every other request the counter counted."""
    total = sum(increase.values())
    split = {(cache.hit,): repeats, (cache.miss,): total - repeats}
    return {key: value for key, value in split.items() if value}


def wait_for_cache_split(pipeline: Pipeline, run: TrafficRun) -> Counts:
    """Poll the requests counter's increase by cache label until it is final, then judge
    it (see the module docstring); against a deployment, hits and misses need only reach
    the run's own (others add traffic too)."""
    metric, (label,) = count_queries(pipeline)["requests_by_cache"]
    query = sum_by(pipeline, metric, (label,))
    base = run.baseline.get("requests_by_cache", {})
    exact = not pipeline.settings.external_mode
    cache = pipeline.contract.cache
    sent = counted_requests(pipeline, run)
    repeats = float(cache_repeats(run))
    ended = run.ledger.finished_at
    # A mismatch is final only on a scrape that holds what the last answers recorded.
    settled_at = ended + RECORDING_MARGIN_S

    def judged(increase: Counts) -> bool:
        if exact:
            return increase == expected_split(cache, repeats, increase)
        hits = increase.get((cache.hit,), 0.0)
        return hits >= repeats and increase.get((cache.miss,), 0.0) >= sent - repeats

    def read_increase(at: datetime) -> Counts:
        now = read_counts(pipeline, query, (label,), at)
        increase = {key: value - base.get(key, 0.0) for key, value in now.items()}
        return {key: value for key, value in increase.items() if value}

    def raise_if_reset(at: datetime) -> None:
        # The split is read from the counter's values: one that went down during the
        # traffic lost what it had counted, whatever the labels say (one defect, which the
        # request counts check names; this one depends on it).
        resets = resets_since(pipeline, metric, run.ledger.started_at, at)
        if resets:
            times = f"{resets} time{'s' if resets != 1 else ''}"
            reset = Finding(
                Kind.DEPENDS_ON,
                subject=f"the values of `{metric}`",
                detail=f"went down {times} since the traffic began (a reset: the backend "
                "restarted or re-created the counter, as the request counts check says), so "
                "a split read from them lacks what was counted before",
            )
            raise HardError(reset.render(), reset)

    def probe() -> tuple[Counts, bool]:
        at = utc_now()  # the split and its finality read at one moment
        increase = read_increase(at)
        if not increase:
            raise_if_never_arrives(pipeline, metric, ended)
            return increase, False
        final = scraped_after(pipeline, metric, ended, at)
        if final:
            # Re-read: samples stamped before `at` may have arrived since the first read.
            increase = read_increase(at)
            raise_if_reset(at)
        if not judged(increase) and scraped_after(pipeline, metric, settled_at, at):
            # Counters only grow: on a scrape holding the last answers, a split that is not
            # the plan's will not become it (against a deployment too: its own requests,
            # whatever others add, are labelled otherwise than the plan says).
            pattern = split_pattern(run, cache, increase)
            wrong = Finding(
                Kind.CACHE_HITS_MISCOUNTED,
                subject=metric,
                seen=describe_counts(increase),
                expected=describe_counts(expected_split(cache, repeats, increase))
                if exact
                else f"at least {repeats:g} under {cache.hit} and {sent - repeats:g} under "
                f"{cache.miss}",
                detail=f": the plan repeated its first request {repeats:g} times, each to be "
                f"answered from the cache ({cache.label}={cache.hit}), and sent no other "
                "repeat" + (f"; {pattern}" if pattern else ""),
                hop=5,
            )
            raise HardError(wrong.render(), wrong)
        return increase, final

    def settled(seen: tuple[Counts, bool]) -> bool:
        increase, final = seen
        return final and judged(increase)

    result = poll_check(
        pipeline,
        probe,
        settled,
        what=f"requests by {label}: `{query}` split as the plan's repeats say",
        describe=lambda seen: describe_counts(seen[0]),
        metric=metric,
        query=pipeline.selector(metric, **{label: cache.hit}),
    )
    return result.value[0] if result.value else {}


def split_pattern(run: TrafficRun, cache: CacheSpec, increase: Counts) -> str:
    """The shape a wrong split has, when it has one the ledger can tell ("" otherwise):
    no hit counted; every request counted as a hit; or a cumulative label, every request
    answered after the first cache hit counted as a hit (the ledger's answer times bound
    how many those are: the requests sent after the first hit was answered, at least, and
    those answered after it was sent, at most)."""
    hits = increase.get((cache.hit,), 0.0)
    total = sum(increase.values())
    if not hits:
        return f"no request is counted under {cache.label}={cache.hit}"
    if hits == total:
        return f"every request is counted under {cache.label}={cache.hit}"
    counted = [
        entry
        for entry in run.ledger.entries
        if entry.kind in ("success", "cache_repeat", "provider_error")
    ]
    repeats = [entry for entry in counted if entry.kind == "cache_repeat" and entry.from_cache]
    if not repeats:
        return ""
    first = min(repeats, key=lambda entry: entry.sent_at + entry.latency_ms / 1000)
    first_answered = first.sent_at + first.latency_ms / 1000
    after = [entry for entry in counted if entry is not first]
    least = 1 + sum(entry.sent_at >= first_answered for entry in after)
    most = 1 + sum(entry.sent_at + entry.latency_ms / 1000 >= first.sent_at for entry in after)
    if least <= hits <= most and hits > len(repeats):
        return (
            f"the pattern of a cumulative label: every request answered after the first "
            f"cache hit counted under {cache.label}={cache.hit} ({hits:g}; the ledger puts "
            f"{least} to {most} requests there from the first hit on)"
        )
    return ""


def counted_requests(pipeline: Pipeline, run: TrafficRun) -> float:
    """The requests the run adds to the requests counter (cache repeats included)."""
    return sum(planned_counts(run.ledger, pipeline.contract)["requests"].values())


def wait_for_hit_rate(pipeline: Pipeline, run: TrafficRun) -> float:
    """Poll the cache-hit-rate gauge until the store holds a sample scraped after the
    traffic ended, then judge it.

    In a stack of our own only this run's traffic reached the assistant, so the gauge must
    be the ledger's cache hits over the requests answered: those the ledger planned, or
    those the requests counter counted (when it counts more than planned, the requests test
    names why; the gauge is right to count what the backend answered). A gauge never
    updated, or computed from something else, is neither. Against a deployment, whose
    history the ledger does not know, it must be a share (0..1).
    """
    spec = pipeline.contract.cache_hit_rate
    assert spec is not None, "the contract names no cache_hit_rate gauge"
    selector = pipeline.selector(spec.name)
    ended = run.ledger.finished_at
    exact = not pipeline.settings.external_mode
    hits = cache_repeats(run)
    requests_metric, by = count_queries(pipeline)["requests"]

    def counted_in_store(at: datetime) -> float:
        now = read_counts(pipeline, sum_by(pipeline, requests_metric, by), by, at)
        base = run.baseline.get("requests", {})
        return sum(value - base.get(key, 0.0) for key, value in now.items())

    def probe() -> float | None:
        at = utc_now()  # the gauge, its finality and the counter read at one moment
        samples = pipeline.store.instant(selector, at)
        if not samples:
            raise_if_never_arrives(pipeline, spec.name, ended)
            return None
        # Set at every answer: final on a scrape that holds what the last answers recorded.
        if not scraped_after(pipeline, spec.name, ended + RECORDING_MARGIN_S, at):
            return None
        # Re-read: samples stamped before `at` may have arrived since the first read.
        value = pipeline.store.instant(selector, at)[0].value
        if exact:
            totals = sorted({counted_requests(pipeline, run), counted_in_store(at)})
            shares = [hits / total for total in totals if total]
            wrong = not any(math.isclose(value, share, abs_tol=GAUGE_TOLERANCE) for share in shares)
            wanted = " or ".join(f"{share:.6g}" for share in shares) or "0"
            wanted = f"the share of cache hits is {wanted}"
            why = (
                f" ({hits} repeats answered from the cache, of "
                + " or ".join(f"{total:g}" for total in totals)
                + " requests answered: the ledger's, the requests counter's)"
            )
        else:
            wrong = not 0.0 <= value <= 1.0
            wanted, why = "a share lies between 0 and 1", ""
        if wrong:
            finding = Finding(
                Kind.GAUGE_WRONG,
                subject=selector,
                seen=f"{value:.6g} after the traffic",
                expected=wanted,
                detail=why,
                hop=5,
            )
            raise HardError(finding.render(), finding)
        return value

    result = poll_check(
        pipeline,
        probe,
        lambda value: value is not None,
        what=f"`{selector}` scraped after the traffic",
        describe=lambda value: "no sample after the traffic" if value is None else f"{value:g}",
        metric=spec.name,
        query=selector,
    )
    return result.value or 0.0
