"""Where a histogram's observations land: each bucket's increase against the ledger.

The ledger knows every observation within bounds. A request's latency, as the backend
measures it, is at least the delay the stub LLM was told to add (the stub sleeps before it
answers) and at most the round trip the client measured (the backend's clock runs inside
it). A token observation is exactly the usage the stub was told to report. So for each
upper bound `le` the cumulative bucket rose by at least the observations certainly at or
below it (high <= le) and at most those possibly there (low <= le), and the latency `_sum`
lies between the sum of the lows and the sum of the highs. A latency recorded in seconds
where the contract says milliseconds puts every delayed request in the first bucket: it
fails, and says how far off the sum is.

The label values each observation goes under come from what was sent and the contract's
failure accounting, as for the counts. Label values whose count is not the ledger's (a
count check's finding) are judged pooled, so a fault counted under another status still
has its latency judged; what even the pool does not add up to is the count checks' to
name, not this check's.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from scanium_e2e.checks.counts import complete_scrape_after, read_counts, scraped_after, sum_by
from scanium_e2e.checks.expectations import count_queries
from scanium_e2e.checks.waits import fail_with_diagnosis, pipeline_hard_error, poll_check
from scanium_e2e.clients.query import utc_now
from scanium_e2e.contract import Contract, MetricSpec
from scanium_e2e.errors import CheckFailed
from scanium_e2e.findings import Finding, Kind
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.polling import HardError
from scanium_e2e.traffic import Ledger
from scanium_e2e.traffic.ledger import TOKEN_TYPES
from scanium_e2e.traffic.run import Counts, TrafficRun

Key = tuple[str, ...]
# The ledger's round trips are rounded to the microsecond.
ROUNDING_MS = 0.001


@dataclass(frozen=True)
class Expected:
    """One observation the ledger predicts: under `key`, with a value in [low, high]."""

    key: Key
    low: float
    high: float
    # The request it comes from, for messages: `#3 success: stub delay 275 ms, round trip 290 ms`.
    origin: str = ""


@dataclass(frozen=True)
class Histogram:
    """A histogram's increase in the store since the run's baseline, per label key."""

    # Key -> upper bound -> cumulative count.
    buckets: dict[Key, dict[float, float]]
    # Key -> increase of `_sum` (empty when the check reads no sum).
    sums: dict[Key, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Group:
    """Label keys judged together, and the observations the ledger puts under them."""

    keys: tuple[Key, ...]
    expected: tuple[Expected, ...]
    pooled: bool = False


@dataclass(frozen=True)
class Misplaced:
    """A bucket (or the sum) of one group outside what the ledger allows."""

    group: Group
    le: float | None  # None: the `_sum`
    seen: float
    least: float
    most: float

    @property
    def overshoot(self) -> bool:
        """More than the ledger allows: counters only grow, so waiting cures nothing."""
        return self.seen > self.most


@dataclass(frozen=True)
class Placement:
    """The verdict on one read of the store."""

    misplaced: tuple[Misplaced, ...]
    judged: tuple[Group, ...]
    # Groups whose counts are not the ledger's: the count checks say why.
    unjudged: tuple[Group, ...] = ()
    # Every series read holds a sample scraped after the traffic ended: nothing more comes.
    final: bool = False

    @property
    def holds(self) -> bool:
        """Every judged group's buckets (and sum) are where the ledger allows."""
        return not self.misplaced


def latency_expectations(
    ledger: Ledger, contract: Contract, *, delays_hold: bool
) -> list[Expected]:
    """One latency observation per request that reached the assistant, in the metric's unit.

    `delays_hold`: the stub LLM answered the backend (a stack started or attached here),
    so each request took at least its stub delay. Against a deployment's own LLM only the
    round trip bounds an observation.
    """
    scale = contract.latency.ms_per_unit
    accounting = contract.failures
    expected: list[Expected] = []
    for entry in ledger.entries:
        if entry.kind in ("success", "cache_repeat"):
            status = contract.status_success
        elif entry.kind == "provider_error" and accounting.recorded_as != "not_recorded":
            error = accounting.recorded_as == "error"
            status = contract.status_error if error else contract.status_success
        else:
            continue
        high = entry.latency_ms + ROUNDING_MS if entry.http_status is not None else math.inf
        low = float(entry.stub_delay_ms) if delays_hold and entry.from_cache is not True else 0.0
        # Answered before its delay was up: the stub never held this request (a mock
        # provider, a cache); only the round trip bounds it.
        low = low if low <= high else 0.0
        origin = f"#{entry.seq} {entry.kind}: stub delay {entry.stub_delay_ms} ms, " + (
            f"round trip {entry.latency_ms:.0f} ms" if math.isfinite(high) else "no answer"
        )
        expected.append(Expected((ledger.provider, status), low / scale, high / scale, origin))
    return expected


def token_expectations(ledger: Ledger, contract: Contract) -> list[Expected]:
    """Three token observations (input, output, total) per successful LLM call, exact."""
    expected: list[Expected] = []
    for entry in ledger.entries:
        if entry.kind != "success" or entry.planned_input_tokens is None:
            continue
        values = {
            "input": entry.planned_input_tokens,
            "output": entry.planned_output_tokens or 0,
        }
        values["total"] = values["input"] + values["output"]
        for token_type in contract.token_types:
            if token_type in TOKEN_TYPES:
                value = float(values[token_type])
                origin = f"#{entry.seq} {token_type} tokens: {value:g}"
                expected.append(Expected((ledger.provider, token_type), value, value, origin))
    return expected


def _le(text: str) -> float | None:
    try:
        return float(text)  # "+Inf" reads as inf
    except ValueError:
        return None


def read_histogram(
    pipeline: Pipeline,
    run: TrafficRun,
    bucket_role: str,
    sum_role: str | None = None,
    at: datetime | None = None,
) -> Histogram:
    """The histogram's increase since the run's baseline (`_bucket` by key and le, `_sum`),
    evaluated at `at` (default now)."""
    queries = count_queries(pipeline)
    metric, by = queries[bucket_role]
    buckets: dict[Key, dict[float, float]] = {}
    for key, value in _increase(pipeline, run, bucket_role, metric, by, at).items():
        le = _le(key[-1])
        if le is not None:
            buckets.setdefault(key[:-1], {})[le] = value
    sums: dict[Key, float] = {}
    if sum_role is not None:
        metric, by = queries[sum_role]
        sums = _increase(pipeline, run, sum_role, metric, by, at)
    return Histogram(buckets, sums)


def _increase(
    pipeline: Pipeline,
    run: TrafficRun,
    role: str,
    metric: str,
    by: tuple[str, ...],
    at: datetime | None = None,
) -> Counts:
    now = read_counts(pipeline, sum_by(pipeline, metric, by), by, at)
    base = run.baseline.get(role, {})
    return {key: value - base.get(key, 0.0) for key, value in now.items()}


def _total(buckets: dict[float, float]) -> float:
    return buckets.get(math.inf, max(buckets.values(), default=0.0))


def group_keys(histogram: Histogram, expected: Sequence[Expected], *, exact: bool) -> Placement:
    """Split the keys into groups to judge: each key whose count is the ledger's alone, the
    rest pooled, and the pool left unjudged when even its count is not the ledger's."""
    by_key: dict[Key, list[Expected]] = {}
    for observation in expected:
        by_key.setdefault(observation.key, []).append(observation)
    seen_keys = {key for key, buckets in histogram.buckets.items() if _total(buckets)}

    def counted(keys: Iterable[Key], planned: int) -> bool:
        total = sum(_total(histogram.buckets.get(key, {})) for key in keys)
        return total == planned if exact else total >= planned

    alone = [key for key in sorted(by_key) if counted([key], len(by_key[key]))]
    rest = sorted((set(by_key) | seen_keys) - set(alone))
    groups = [Group((key,), tuple(by_key[key])) for key in alone]
    unjudged: list[Group] = []
    if rest:
        pool = Group(
            tuple(rest), tuple(o for key in rest for o in by_key.get(key, [])), pooled=True
        )
        if pool.expected and counted(rest, len(pool.expected)):
            groups.append(pool)
        else:
            unjudged.append(pool)
    return Placement(misplaced=(), judged=tuple(groups), unjudged=tuple(unjudged))


def judge(
    histogram: Histogram,
    expected: Sequence[Expected],
    bounds: Sequence[float],
    *,
    exact: bool,
    judge_sum: bool = False,
) -> Placement:
    """Each judged group's cumulative buckets (at the contract's bounds the store has, and
    +Inf) and, with `judge_sum`, its sum, against the ledger's observations.

    With `exact` false (a shared store, where others add observations too) only the least
    each bucket must have risen by is judged.
    """
    grouped = group_keys(histogram, expected, exact=exact)
    misplaced: list[Misplaced] = []
    for group in grouped.judged:
        seen: dict[float, float] = {}
        for key in group.keys:
            for le, value in histogram.buckets.get(key, {}).items():
                seen[le] = seen.get(le, 0.0) + value
        uppers = sorted({*bounds, math.inf} & (set(seen) | {math.inf}))
        for le in uppers:
            least = sum(1 for o in group.expected if o.high <= le)
            most = sum(1 for o in group.expected if o.low <= le) if exact else math.inf
            value = seen.get(le, 0.0)
            if not least <= value <= most:
                misplaced.append(Misplaced(group, le, value, least, most))
        if judge_sum and exact:
            total = sum(histogram.sums.get(key, 0.0) for key in group.keys)
            least_sum = sum(o.low for o in group.expected)
            most_sum = sum(o.high for o in group.expected)
            if not least_sum <= total <= most_sum:
                misplaced.append(Misplaced(group, None, total, least_sum, most_sum))
    return Placement(tuple(misplaced), grouped.judged, grouped.unjudged)


def selector_of(metric: str, labels: Sequence[str], keys: Sequence[Key], le: float | None) -> str:
    """`metric{provider="openai",status=~"error|success",le="50"}` for a group's keys."""
    matchers = []
    for position, label in enumerate(labels):
        values = sorted({key[position] for key in keys if position < len(key)})
        if len(values) == 1:
            matchers.append(f'{label}="{values[0]}"')
        elif values:
            matchers.append(f'{label}=~"{"|".join(values)}"')
    if le is not None:
        matchers.append(f'le="{_bound(le)}"')
    return f"{metric}{{{','.join(matchers)}}}"


def _allowed(least: float, most: float) -> str:
    if least == most:
        return f"exactly {least:g}"
    if math.isinf(most):
        return f"at least {least:g}"
    return f"{least:g} to {most:g}"


def scale_hint(seen: float, least: float, most: float, unit: str) -> str:
    """`about 1000 times too small: seconds recorded where the contract says ms?`, or ""."""
    middle = (least + most) / 2
    if seen <= 0 or middle <= 0:
        return ""
    ratio = seen / middle
    power = round(math.log10(ratio) / 3) * 3
    if power == 0 or not 0.5 <= ratio / 10.0**power <= 2:
        return ""
    size = f"about {10 ** abs(power):g} times too {'small' if power < 0 else 'large'}"
    if unit == "ms" and power == -3:
        return f"{size}: seconds recorded where the contract says ms?"
    if unit == "s" and power == 3:
        return f"{size}: milliseconds recorded where the contract says seconds?"
    return f"{size}: a unit error?"


def _bound(le: float | None) -> str:
    if le is None:
        return "_sum"
    return "+Inf" if math.isinf(le) else f"{le:g}"


def misplaced_finding(
    placement: Placement, metric: str, labels: Sequence[str], unit: str = ""
) -> Finding:
    """The first misplaced bucket in one sentence, with the sum's scale when it is off."""
    buckets = [m for m in placement.misplaced if m.le is not None]
    first = buckets[0] if buckets else placement.misplaced[0]
    suffix = "_bucket" if first.le is not None else "_sum"
    detail = ""
    sums = [m for m in placement.misplaced if m.le is None and m.group == first.group]
    if sums:
        off = sums[0]
        in_unit = f" {unit}" if unit else ""
        detail = (
            f"; its _sum rose by {off.seen:.6g}, where the ledger needs "
            f"{_allowed(off.least, off.most)}{in_unit}"
        )
        hint = scale_hint(off.seen, off.least, off.most, unit)
        if hint:
            detail += f": {hint}"
    return Finding(
        Kind.OBSERVATIONS_MISPLACED,
        subject=selector_of(metric + suffix, labels, first.group.keys, first.le),
        seen=f"{first.seen:.6g}",
        expected=_allowed(first.least, first.most),
        detail=detail,
        hop=5,
    )


def describe_placement(placement: Placement) -> str:
    """`2 label group(s) judged, 1 bucket(s) or sum(s) outside ...` for the poll's last line."""
    text = f"{len(placement.judged)} label group(s) judged"
    if placement.misplaced:
        text += f", {len(placement.misplaced)} bucket(s) or sum(s) outside the ledger's bounds"
    return text


def report(placement: Placement, expected: Sequence[Expected]) -> str:
    """Every misplaced bucket, then the observations the ledger expected, one per line."""
    lines = [
        f"  le={_bound(m.le)} {' '.join(sorted('/'.join(key) for key in m.group.keys))}: "
        f"rose by {m.seen:.6g}, allowed {_allowed(m.least, m.most)}"
        for m in placement.misplaced
    ]
    lines.append("what the ledger sent:")
    lines += [f"  {o.origin}" for o in expected if o.origin]
    return "\n".join(lines)


def wait_for_placement(
    pipeline: Pipeline,
    run: TrafficRun,
    *,
    what: str,
    metric: str,
    labels: tuple[str, ...],
    bucket_role: str,
    expected: Sequence[Expected],
    bounds: Sequence[float],
    sum_role: str | None = None,
    unit: str = "",
) -> Placement:
    """Poll until every judged group's observations sit where the ledger allows.

    A bucket above its most is final at once in our own stack (cumulative counts only
    grow). One below its least, or a label group whose count is not the ledger's yet, may
    be a scrape taken mid-traffic: final once every series holds a sample scraped after
    the traffic ended (`scraped_after`).
    """
    exact = not pipeline.settings.external_mode
    found: list[Finding] = []

    def misplaced_error(placement: Placement) -> HardError:
        finding = misplaced_finding(placement, metric, labels, unit)
        found.append(finding)
        return HardError("\n" + report(placement, expected), finding)

    def probe() -> Placement:
        at = utc_now()  # the buckets and their finality read at one moment
        histogram = read_histogram(pipeline, run, bucket_role, sum_role, at)
        if not any(_total(b) for b in histogram.buckets.values()):
            pipeline_hard_error(pipeline)
            return Placement((), ())
        placement = judge(histogram, expected, bounds, exact=exact, judge_sum=sum_role is not None)
        if exact and any(m.overshoot for m in placement.misplaced):
            raise misplaced_error(placement)
        final = scraped_after(pipeline, metric + "_bucket", run.ledger.finished_at, at)
        if final:
            # Re-read: samples stamped before `at` may have arrived since the first read.
            histogram = read_histogram(pipeline, run, bucket_role, sum_role, at)
            placement = judge(
                histogram, expected, bounds, exact=exact, judge_sum=sum_role is not None
            )
        if final and not placement.holds:
            raise misplaced_error(placement)
        return dataclasses.replace(placement, final=final)

    def until(placement: Placement) -> bool:
        return placement.final and placement.holds

    try:
        result = poll_check(
            pipeline,
            probe,
            until,
            what=what,
            describe=describe_placement,
            metric=metric + "_bucket",
            query=pipeline.selector(metric + "_bucket"),
        )
    except CheckFailed as exc:
        if found:  # the misplacement in one sentence first; the wait and the hops after it
            raise CheckFailed(
                pipeline.masker.mask(f"{found[0].render()}.\n{exc}"), (found[0],)
            ) from None
        raise
    return result.value or Placement((), ())


def check_series_and_bounds(pipeline: Pipeline, spec: MetricSpec, road: str = "") -> None:
    """`spec`'s _bucket, _sum and _count are in the store, the buckets at exactly the
    contract's bounds (and +Inf); raise CheckFailed naming what is missing or different
    (`road`: the one the family comes by, for the diagnosis)."""
    samples = {}
    for suffix in ("_bucket", "_sum", "_count"):
        samples[suffix] = pipeline.store.instant(pipeline.selector(spec.name + suffix))
        if not samples[suffix]:
            raise fail_with_diagnosis(
                pipeline,
                f"no {spec.name}{suffix} series for this run",
                metric=spec.name + suffix,
                road=road,
            )
    read = (_le(sample.labels.get("le", "")) for sample in samples["_bucket"])
    bounds = {bound for bound in read if bound is not None}
    if bounds != {*spec.buckets, math.inf}:
        finding = Finding(
            Kind.BUCKETS_DIFFER,
            subject=f"{spec.name}_bucket",
            expected=str(sorted({*spec.buckets, math.inf})),
            seen=str(sorted(bounds)),
            hop=5,
            road=road,
        )
        raise CheckFailed(finding.render(), (finding,))


def _computable(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value > 0


def wait_for_quantile(pipeline: Pipeline, query: str, bucket: str, ended: float | None) -> float:
    """Poll `query` (a histogram_quantile over `bucket`) until it is a finite number above
    0, as a dashboard's quantile panel needs it; return it.

    The buckets of a scrape can reach the store in another remote-write batch than its
    `_count`, so a quantile read as the counts settle can be NaN for a moment (the rate of
    buckets whose newest samples are not in yet; seen in CI). It is final once the store
    holds a complete scrape of `bucket` taken after the traffic `ended`: then a value still
    not computable fails at once, naming it.
    """

    def value_at(at: datetime) -> float | None:
        result = pipeline.store.instant(query, at)
        return result[0].value if result else None

    def probe() -> float | None:
        at = utc_now()  # the value and its finality read at one moment
        value = value_at(at)
        if not _computable(value) and complete_scrape_after(pipeline, bucket, ended, at):
            value = value_at(at)
            if value is not None and math.isnan(value):
                nan = Finding(Kind.ALL_NAN, subject=query, seen="1 series")
                raise HardError(nan.render(), nan)
            if not _computable(value):
                raise HardError(f"`{query}` is {_shown(value)}, not a latency above 0")
        return value

    result = poll_check(
        pipeline,
        probe,
        _computable,
        what=f"`{query}` to be a finite number above 0",
        describe=_shown,
        metric=bucket,
        query=query,
    )
    return float(result.value or 0.0)


def _shown(value: float | None) -> str:
    return "no series" if value is None else f"{value:g}"
