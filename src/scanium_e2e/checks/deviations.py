"""Deviations a count check can name at once, decided on counts and series, not on text.

- a count moved: it overshoots its plan under one label value by exactly what another
  value is missing (injected LLM failures counted as status=success);
- a metric never created: the contract names it, the backend's /metrics has no sample of
  it, while the contract's other metrics are there.

Both are final once the traffic is answered: every scrape after it shows the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scanium_e2e.contract import Contract
from scanium_e2e.findings import Finding, Kind
from scanium_e2e.metrics_text import TextSample
from scanium_e2e.traffic.run import Counts


@dataclass(frozen=True)
class MovedCount:
    """`amount` counted under `to_key` that the plan puts under `from_key`."""

    label: str
    from_key: tuple[str, ...]
    to_key: tuple[str, ...]
    amount: float


def _differ_in_one(a: tuple[str, ...], b: tuple[str, ...]) -> int | None:
    """The one position where `a` and `b` differ, or None (several, none, other lengths)."""
    if len(a) != len(b):
        return None
    positions = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return positions[0] if len(positions) == 1 else None


def moved_count(
    expected: Counts, increase: Counts, by: Sequence[str], *, exact: bool
) -> MovedCount | None:
    """The count that went under a sibling label value, or None.

    `exact` (our own stack): the overshoot equals the shortfall and every other key is
    as planned. Otherwise (a shared deployment, where others add traffic): the planned
    value was never counted at all and its sibling grew by at least as much.
    """
    for to_key, seen in increase.items():
        over = seen - expected.get(to_key, 0.0)
        if over <= 0:
            continue
        for from_key, planned in expected.items():
            got = increase.get(from_key, 0.0)
            missing = planned - got
            position = _differ_in_one(from_key, to_key)
            if missing <= 0 or position is None:
                continue
            others = {k for k in {*expected, *increase} if k not in (from_key, to_key)}
            if exact:
                fits = over == missing and all(
                    increase.get(k, 0.0) == expected.get(k, 0.0) for k in others
                )
            else:
                fits = got == 0 and over >= missing
            if fits:
                return MovedCount(by[position], from_key, to_key, missing)
    return _moved_along_one_label(expected, increase, by) if exact else None


def _without(key: tuple[str, ...], position: int) -> tuple[str, ...]:
    return key[:position] + key[position + 1 :]


def _moved_along_one_label(
    expected: Counts, increase: Counts, by: Sequence[str]
) -> MovedCount | None:
    """Several counts moved along the same label (our own stack): summed over that label
    the counts equal the plan, so all the traffic is counted, only under wrong values of
    it (e.g. cache_hit inverted for every status). Returns the first move."""
    planned = {k: v for k, v in expected.items() if v}
    if not planned or increase == planned:
        return None
    for position, label in enumerate(by):
        if any(key[position] == "" for key in increase):
            continue  # series without the label: a missing label, not a moved count
        totals: dict[tuple[str, ...], list[float]] = {}
        for key, value in planned.items():
            totals.setdefault(_without(key, position), [0.0, 0.0])[0] += value
        for key, value in increase.items():
            totals.setdefault(_without(key, position), [0.0, 0.0])[1] += value
        if any(plan != seen for plan, seen in totals.values()):
            continue
        for from_key, value in sorted(planned.items()):
            missing = value - increase.get(from_key, 0.0)
            if missing <= 0:
                continue
            for to_key, seen in sorted(increase.items()):
                if _differ_in_one(from_key, to_key) == position and seen > planned.get(to_key, 0.0):
                    return MovedCount(label, from_key, to_key, missing)
    return None


def could_still_move(expected: Counts, increase: Counts) -> bool:
    """Whether every overshoot has a sibling key short of its plan by at least as much.

    Then the shortfall may still arrive under the sibling (a scrape taken mid-traffic),
    so the overshoot alone is no reason to stop waiting yet. A key whose differing label is
    empty is no such sibling: its series lack the label, and a series never gains one.
    """

    def sibling(other: tuple[str, ...], key: tuple[str, ...]) -> bool:
        position = _differ_in_one(other, key)
        return position is not None and key[position] != ""

    for key, seen in increase.items():
        over = seen - expected.get(key, 0.0)
        if over <= 0:
            continue
        if not any(
            sibling(other, key) and planned - increase.get(other, 0.0) >= over
            for other, planned in expected.items()
        ):
            return False
    return True


def moved_finding(moved: MovedCount, metric: str, contract: Contract) -> Finding:
    """The finding for a moved count: failures counted as successes has its own kind."""
    index = [a != b for a, b in zip(moved.from_key, moved.to_key, strict=True)].index(True)
    was, went = moved.from_key[index], moved.to_key[index]
    label = moved.label
    failures = (
        label == "status" and was == contract.status_error and went == contract.status_success
    )
    return Finding(
        Kind.FAILURES_COUNTED_AS_SUCCESS if failures else Kind.COUNT_MOVED,
        subject=metric,
        expected=f"{label}={was}",
        seen=f"{label}={went}",
        detail=f"{moved.amount:g}",
        hop=5,
    )


def contract_metric_names(contract: Contract) -> list[str]:
    """The metrics the contract names (histograms by their base name)."""
    specs = (contract.requests, contract.latency, contract.tokens, contract.errors)
    return [spec.name for spec in specs]


def exposed_families(samples: Sequence[TextSample], names: Sequence[str]) -> list[str]:
    """Which of `names` have at least one sample (histograms by _bucket/_sum/_count)."""
    seen = {sample.name for sample in samples}
    return [
        name
        for name in names
        if seen & {name, name + "_total", name + "_bucket", name + "_sum", name + "_count"}
    ]


def never_created(
    metric: str, samples: Sequence[TextSample], contract: Contract, url: str
) -> Finding | None:
    """`metric` has no sample on /metrics while the contract's other metrics have some."""
    names = contract_metric_names(contract)
    histogram = {name: {name, name + "_sum", name + "_count"} for name in names}
    base = next((name for name in names if metric in histogram[name]), metric)
    if exposed_families(samples, [base]):
        return None
    siblings = exposed_families(samples, [name for name in names if name != base])
    if not siblings:
        return None
    return Finding(
        Kind.METRIC_NEVER_CREATED, subject=base, seen=", ".join(siblings), detail=url, hop=1
    )


def short_keys(expected: Counts, increase: Counts) -> list[tuple[str, ...]]:
    """The keys counted below their plan, when nothing is counted above it (else [])."""
    if any(value > expected.get(key, 0.0) for key, value in increase.items()):
        return []
    return [key for key, value in sorted(expected.items()) if increase.get(key, 0.0) < value]


def short_finding(
    metric: str,
    expected: Counts,
    increase: Counts,
    by: Sequence[str],
    after_s: float,
    how: str = "scraped",
    resets: int = 0,
) -> Finding:
    """The final shortfall of `metric`, its shape named where it is recognisable:

    - a label value with no series at all ("no series with status=error": those requests
      were never observed);
    - a count that rose by exactly what the plan puts under a sibling value (token_type
      total rose by the input tokens: the backend observes the input count as the total);
    - a counter that went down while the traffic was answered (`resets`, read by PromQL's
      `resets()`): the backend restarted or re-created it, and what it had counted before
      is lost to the increase.
    """
    keys = short_keys(expected, increase)
    shapes: list[str] = []
    for key in keys:
        seen = increase.get(key, 0.0)
        labels = ", ".join(f"{name}={value}" for name, value in zip(by, key, strict=False))
        if not seen:
            shapes.append(f"no series with {labels}: those observations were never made")
            continue
        for other, planned in sorted(expected.items()):
            position = _differ_in_one(key, other)
            if other != key and position is not None and planned == seen:
                shapes.append(
                    f"{labels} rose by exactly what the plan puts under "
                    f"{by[position]}={other[position]} ({seen:g}): the backend observes that "
                    f"value as {by[position]}={key[position]}"
                )
                break
    if resets:
        # The increase lost what was counted before the reset: the shapes read from it
        # (a sibling's amount, a missing value) would be coincidences.
        shapes = [
            f"the store shows the counter going down {resets} time{'s' if resets != 1 else ''} "
            "since the traffic began (a reset: the backend restarted or re-created it), so "
            "what it had counted before is missing from the increase"
        ]
    wanted = {key: expected[key] for key in keys}
    got = {key: increase.get(key, 0.0) for key in keys}
    return Finding(
        Kind.COUNT_SHORT,
        subject=metric,
        expected=_counts(wanted),
        seen=_counts(got),
        detail=(
            f": the store holds every series of it that the backend exposes, each {how} "
            f"{after_s:.1f} s or more after the traffic ended"
            + ("; " + "; ".join(shapes) if shapes else "")
        ),
        hop=5,
    )


def _counts(counts: Counts) -> str:
    return ", ".join(f"({', '.join(key)})={value:g}" for key, value in sorted(counts.items()))
