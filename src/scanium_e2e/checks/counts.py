"""Exact counts: each family's increase in the store equals the ledger, polled at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from scanium_e2e.checks.expectations import COUNT_ROLES, count_queries, planned_counts
from scanium_e2e.checks.waits import pipeline_hard_error, poll_check
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.polling import (
    HardError,
)
from scanium_e2e.traffic.run import Counts, TrafficRun
from scanium_e2e.verdict.diagnose import (
    hop_backend_metrics,
)
from scanium_e2e.verdict.findings import Finding, Kind


def sum_by(pipeline: Pipeline, metric: str, by: tuple[str, ...], **labels: str) -> str:
    """`sum by (a, b) (metric{scope})` for this run."""
    return f"sum by ({', '.join(by)}) ({pipeline.selector(metric, **labels)})"


def read_counts(pipeline: Pipeline, query: str, by: tuple[str, ...]) -> Counts:
    """An instant query's result keyed by the values of `by` labels."""
    return {
        tuple(sample.labels.get(label, "") for label in by): sample.value
        for sample in pipeline.store.instant(query)
    }


def describe_counts(counts: Counts) -> str:
    """`(openai, success)=3, (openai, error)=1` form."""
    if not counts:
        return "no series"
    return ", ".join(f"({', '.join(key)})={value:g}" for key, value in sorted(counts.items()))


def wait_for_counts(
    pipeline: Pipeline,
    *,
    what: str,
    metric: str,
    by: tuple[str, ...],
    expected: Counts,
    baseline: Counts | None = None,
    exact: bool = True,
    cancel: threading.Event | None = None,
) -> Counts:
    """Poll until the increase of `sum by (by) (metric)` since `baseline` equals `expected`.

    With `exact` false (a shared deployment, where others add traffic too) the increase
    need only reach `expected`. In our own stack a count above expectation can never come
    back down, so it ends the wait at once.
    """
    query = sum_by(pipeline, metric, by)
    base = baseline or {}

    def holds(increase: Counts) -> bool:
        if exact:
            return increase == {k: v for k, v in expected.items() if v}
        return all(increase.get(key, 0.0) >= value for key, value in expected.items())

    def probe() -> Counts:
        if cancel is not None and cancel.is_set():
            raise CountCheckCancelled(f"{what}: cancelled")
        now = read_counts(pipeline, query, by)
        increase = {key: value - base.get(key, 0.0) for key, value in now.items()}
        increase = {key: value for key, value in increase.items() if value}
        if exact and any(increase.get(key, 0.0) > expected.get(key, 0.0) for key in increase):
            # Counters only grow: a count above the ledger, or under labels the ledger
            # cannot explain (a missing or renamed label), will never come right.
            unexplained = Finding(
                Kind.COUNTS_UNEXPLAINED,
                subject=pipeline.store_name,
                expected=describe_counts(expected),
                seen=describe_counts(increase),
                detail=query,
                hop=5,
            )
            raise HardError(unexplained.render())
        if not holds(increase):
            pipeline_hard_error(pipeline)
            # The traffic is sent: a family the backend does not expose will never arrive.
            exposed = hop_backend_metrics(pipeline, metric)
            if exposed.status == "broken":
                raise HardError(exposed.headline())
        return increase

    # On failure, diagnose the first expected series itself: an empty selector lets the
    # explanation name the label or value that Mimir never saw.
    first = sorted(expected)[0] if expected else ()
    series_query = pipeline.selector(metric, **dict(zip(by, first, strict=False)))
    result = poll_check(
        pipeline,
        probe,
        holds,
        what=f"{what}: `{query}` to {'equal' if exact else 'reach'} {describe_counts(expected)}",
        describe=describe_counts,
        metric=metric,
        query=series_query,
    )
    return result.value or {}


def count_baselines(pipeline: Pipeline) -> dict[str, Counts]:
    """Mimir's counts for every role right now: subtracted later to get increases."""
    return {
        role: read_counts(pipeline, sum_by(pipeline, metric, by), by)
        for role, (metric, by) in count_queries(pipeline).items()
    }


class CountCheckCancelled(Exception):
    """A concurrent count check was told to stop (Ctrl-C or another thread's failure)."""


def settle_counts(
    pipeline: Pipeline, run: TrafficRun, roles: Sequence[str] | None = None
) -> dict[str, float]:
    """Poll every count check of `run` at once, one thread per role; seconds per role.

    Each role's verdict (its counts, or the CheckFailed with its diagnosis) is kept in
    `run.settled`, where `wait_for_planned` returns or re-raises it: the checks cost the
    longest wait, not the sum, and each test still fails with its own message. By default
    the roles are all of COUNT_ROLES, less `errors` for a backend that records none.
    """
    if roles is None:
        recorded = pipeline.contract.errors_recorded
        roles = [role for role in COUNT_ROLES if recorded or role != "errors"]
    cancel = threading.Event()

    def settle(role: str) -> float:
        started = time.monotonic()
        try:
            run.settled[role] = _wait_for_planned(pipeline, run, role, cancel)
        except CountCheckCancelled:
            pass
        except Exception as exc:  # kept for the role's own test, which re-raises it
            run.settled[role] = exc
        return time.monotonic() - started

    pool = ThreadPoolExecutor(max_workers=len(roles), thread_name_prefix="count-check")
    try:
        futures = {role: pool.submit(settle, role) for role in roles}
        return {role: future.result() for role, future in futures.items()}
    finally:
        cancel.set()  # on Ctrl-C, the other threads stop at their next attempt
        pool.shutdown(wait=True)


def wait_for_planned(pipeline: Pipeline, run: TrafficRun, role: str) -> Counts:
    """Poll until the count of `role` rose by exactly what the ledger planned.

    When `settle_counts` already polled this role, its verdict is returned (or raised).
    """
    if role in run.settled:
        verdict = run.settled[role]
        if isinstance(verdict, Exception):
            raise verdict
        return verdict
    return _wait_for_planned(pipeline, run, role, None)


def _wait_for_planned(
    pipeline: Pipeline, run: TrafficRun, role: str, cancel: threading.Event | None
) -> Counts:
    metric, by = count_queries(pipeline)[role]
    expected = planned_counts(run.ledger, pipeline.contract)[role]
    if pipeline.settings.external_mode and role == "tokens_sum":
        # A deployment's LLM is real: it ignores the stub's usage markers, so the planned
        # token amounts cannot be predicted; each token type need only grow.
        expected = dict.fromkeys(expected, 1.0)
    return wait_for_counts(
        pipeline,
        what=role.replace("_", " "),
        metric=metric,
        by=by,
        expected=expected,
        baseline=run.baseline.get(role, {}),
        exact=not pipeline.settings.external_mode,
        cancel=cancel,
    )
