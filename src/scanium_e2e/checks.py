"""Success criteria as small functions over a Pipeline.

Each check polls the store (Mimir or Cortex) with a deadline through `polling.poll`. When
it fails, the message is built by `diagnose`: the broken hop, what it saw, and the last
query and value. A hard error (Alloy reports an HTTP error status for its scrape) ends the
wait at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from scanium_e2e import leaks
from scanium_e2e.contract import Contract
from scanium_e2e.diagnose import (
    diagnose,
    hop_backend_metrics,
    hop_mimir_ingestion,
    hop_remote_write,
    scrape_failure,
    scrape_target_name,
    wrong_job,
)
from scanium_e2e.errors import CheckFailed, EndpointError
from scanium_e2e.findings import Finding, Kind
from scanium_e2e.mimir import Sample, utc_now
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.polling import (
    HardError,
    PollAborted,
    PollResult,
    PollTimeout,
    TransientError,
    poll,
)
from scanium_e2e.traffic import Ledger

T = TypeVar("T")


@dataclass(frozen=True)
class TrafficRun:
    """The traffic a session sent, Mimir's counts just before it, and settled count checks.

    `settled` maps a count role to what `settle_counts` found: the counts, or the failure
    that `wait_for_planned` re-raises for that role. `timings` holds the seconds of the steps
    of `run_traffic` (`wave1_send_s`, `wave1_visible_s`, `wave2_send_s`).
    """

    ledger: Ledger
    baseline: dict[str, Counts]
    settled: dict[str, Counts | Exception] = field(default_factory=dict, compare=False)
    timings: dict[str, float] = field(default_factory=dict, compare=False)


def describe_samples(samples: list[Sample]) -> str:
    """Compact text of an instant vector for messages."""
    if not samples:
        return "empty result"
    shown = "; ".join(sample.describe() for sample in samples[:6])
    more = f" (+{len(samples) - 6} more)" if len(samples) > 6 else ""
    return shown + more


def fail_with_diagnosis(
    pipeline: Pipeline, headline: str, *, metric: str | None = None, query: str | None = None
) -> CheckFailed:
    """A CheckFailed whose message is `headline` plus the hop-by-hop diagnosis (masked)."""
    report = diagnose(pipeline, metric=metric, query=query).render()
    return CheckFailed(pipeline.masker.mask(f"{headline}\n{report}"))


def poll_check(
    pipeline: Pipeline,
    probe: Callable[[], T],
    until: Callable[[T], bool],
    *,
    what: str,
    describe: Callable[[T], str],
    metric: str | None = None,
    query: str | None = None,
    timeout_s: float | None = None,
) -> PollResult[T]:
    """Poll until `until` holds; on timeout or hard error raise CheckFailed with a diagnosis."""
    try:
        return poll(
            probe,
            until,
            what=what,
            timeout_s=timeout_s or pipeline.settings.data_timeout_s,
            interval_s=pipeline.settings.poll_interval_s,
            describe=describe,
        )
    except (PollTimeout, PollAborted) as exc:
        raise fail_with_diagnosis(pipeline, str(exc), metric=metric, query=query) from None


def pipeline_hard_error(pipeline: Pipeline) -> None:
    """Raise HardError when a hop reports a fault that waiting will not cure.

    - Alloy's scrape got an HTTP error status (403, 404, 500) from the target; connection
      errors are not hard (the backend may be restarting);
    - Alloy scrapes the target fine, but under another job name than the contract's;
    - Alloy's remote write failed or dropped samples, or the store discarded some (only in
      a stack we started: a shared store's counters hold other tenants' history).
    """
    try:
        targets = pipeline.alloy.scrape_targets(pipeline.contract.scrape.component)
    except (TransientError, EndpointError):
        targets = []
    name = scrape_target_name(pipeline)
    for target in targets:
        if not target.up and target.http_status is not None:
            raise HardError(scrape_failure(target, name).render())
    mismatch = wrong_job(targets, pipeline.contract.scrape.job, name)
    if mismatch is not None:
        raise HardError(mismatch.render())
    if not pipeline.stack.started_here:
        return
    broken = [
        hop
        for hop in (hop_remote_write(pipeline), hop_mimir_ingestion(pipeline))
        if hop.status == "broken"
    ]
    if broken:
        raise HardError(broken[-1].headline())


def wait_for_up(pipeline: Pipeline) -> PollResult[list[Sample]]:
    """`up{job=...} == 1` in the store for this run's scrape of the backend."""
    query = pipeline.selector("up")

    def probe() -> list[Sample]:
        samples = pipeline.mimir.instant(query)
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


Counts = dict[tuple[str, ...], float]


def sum_by(pipeline: Pipeline, metric: str, by: tuple[str, ...], **labels: str) -> str:
    """`sum by (a, b) (metric{scope})` for this run."""
    return f"sum by ({', '.join(by)}) ({pipeline.selector(metric, **labels)})"


def read_counts(pipeline: Pipeline, query: str, by: tuple[str, ...]) -> Counts:
    """An instant query's result keyed by the values of `by` labels."""
    return {
        tuple(sample.labels.get(label, "") for label in by): sample.value
        for sample in pipeline.mimir.instant(query)
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


def count_queries(pipeline: Pipeline) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Role -> (metric, grouping labels) of every count the ledger predicts."""
    contract = pipeline.contract
    return {
        "requests": (contract.requests.name, ("provider", "status")),
        "latency_count": (contract.latency.name + "_count", ("provider", "status")),
        "tokens_sum": (contract.tokens.name + "_sum", ("provider", "token_type")),
        "tokens_count": (contract.tokens.name + "_count", ("provider", "token_type")),
        "errors": (contract.errors.name, ("provider",)),
    }


def count_baselines(pipeline: Pipeline) -> dict[str, Counts]:
    """Mimir's counts for every role right now: subtracted later to get increases."""
    return {
        role: read_counts(pipeline, sum_by(pipeline, metric, by), by)
        for role, (metric, by) in count_queries(pipeline).items()
    }


def planned_counts(ledger: Ledger, contract: Contract) -> dict[str, Counts]:
    """What the traffic plan should add to each count, from what was *sent*.

    Expectations come from the kinds of requests sent (a success, an injected provider
    fault), not from the backend's answers, so a backend that mislabels its own outcome
    cannot make its metrics look right.
    """
    provider = ledger.provider
    successes = [entry for entry in ledger.entries if entry.kind == "success"]
    errors = [entry for entry in ledger.entries if entry.kind == "provider_error"]
    statuses: Counts = {}
    if successes:
        statuses[(provider, contract.status_success)] = float(len(successes))
    if errors:
        statuses[(provider, contract.status_error)] = float(len(errors))
    tokens_in = sum(entry.planned_input_tokens or 0 for entry in successes)
    tokens_out = sum(entry.planned_output_tokens or 0 for entry in successes)
    per_type = {"input": tokens_in, "output": tokens_out, "total": tokens_in + tokens_out}
    tokens_sum: Counts = {}
    tokens_count: Counts = {}
    if successes:
        for token_type in contract.token_types:
            tokens_sum[(provider, token_type)] = float(per_type.get(token_type, 0))
            tokens_count[(provider, token_type)] = float(len(successes))
    return {
        "requests": statuses,
        "latency_count": dict(statuses),
        "tokens_sum": tokens_sum,
        "tokens_count": tokens_count,
        "errors": {(provider,): float(len(errors))} if errors else {},
    }


COUNT_ROLES = ("requests", "latency_count", "tokens_sum", "tokens_count", "errors")


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


def planted_secrets(pipeline: Pipeline, run: TrafficRun) -> list[str]:
    """The canaries of `run` and the run's own credentials."""
    planted = run.ledger.planted()
    if not planted:
        raise CheckFailed("the traffic planted no canaries: a leak check would prove nothing")
    return [*planted, *pipeline.settings.secrets()]


def run_series(pipeline: Pipeline, run: TrafficRun) -> list[dict[str, str]]:
    """Every series of this run in Mimir, once all the traffic is counted."""
    wait_for_planned(pipeline, run, "requests")
    series = leaks.series_of_run(pipeline.mimir, pipeline.scope(), pipeline.started_at, utc_now())
    if not series:
        raise fail_with_diagnosis(pipeline, f"no series of this run in {pipeline.store_name}")
    return series


def no_secrets_in_labels(pipeline: Pipeline, run: TrafficRun, series: list[dict[str, str]]) -> None:
    """No canary, key or secret-shaped text in any label name or value of this run."""
    found = leaks.scan_series_labels(series, planted_secrets(pipeline, run))
    leaks.fail_on_leaks("secrets in the store's labels", found, pipeline.masker)


def no_secrets_in_metrics_text(pipeline: Pipeline, run: TrafficRun) -> None:
    """No canary, key or secret-shaped text in any line of the backend's /metrics."""
    response = pipeline.backend_metrics()
    if response.status_code != 200:
        raise fail_with_diagnosis(pipeline, f"backend /metrics answered {response.status_code}")
    found = leaks.scan_lines("backend /metrics", response.text, planted_secrets(pipeline, run))
    leaks.fail_on_leaks("secrets in the backend's /metrics", found, pipeline.masker)


def no_secrets_in_log(pipeline: Pipeline, run: TrafficRun, service: str) -> None:
    """No canary, key or secret-shaped text in any line of a started service's log."""
    log = pipeline.stack.logs(service, masked=False)
    if not log.strip():
        raise CheckFailed(f"{service} wrote no log at all: nothing was scanned")
    found = leaks.scan_lines(f"{service} log", log, planted_secrets(pipeline, run))
    leaks.fail_on_leaks(f"secrets in the {service} log", found, pipeline.masker)


def series_within_budget(pipeline: Pipeline, series: list[dict[str, str]]) -> None:
    """No metric has more series than its budget: unbounded labels would blow it."""
    contract = pipeline.contract
    over = leaks.series_over_budget(
        series, dict(contract.series_budget), contract.series_budget_default
    )
    if over:
        raise CheckFailed(
            "series over budget (unbounded labels?): "
            + ", ".join(f"{name}: {n} series (budget {b})" for name, (n, b) in over.items())
        )
