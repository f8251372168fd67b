"""Exact counts: each family's increase in the store equals the ledger, polled at once."""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from scanium_e2e.checks.deviations import (
    could_still_move,
    moved_count,
    moved_finding,
    never_created,
    short_finding,
    short_keys,
)
from scanium_e2e.checks.expectations import (
    COUNT_ROLES,
    ERROR_ROLES,
    HTTP_ROLES,
    OTLP_FAMILY_OF,
    count_queries,
    planned_counts,
    query_filters,
)
from scanium_e2e.checks.http import http_explainer
from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.checks.waits import delivery_hard_error, pipeline_hard_error, poll_check
from scanium_e2e.clients.query import utc_now
from scanium_e2e.errors import CheckFailed, EndpointError
from scanium_e2e.findings import OTLP, Finding, Kind
from scanium_e2e.metrics_text import parse_samples
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.polling import HardError
from scanium_e2e.progress import is_main, phase
from scanium_e2e.traffic.run import Counts
from scanium_e2e.verdict.diagnose import hop_backend_metrics
from scanium_e2e.verdict.otlp_diagnose import family_finding, otlp_state, road_cause


def sum_by(
    pipeline: Pipeline, metric: str, by: tuple[str, ...], matchers: str = "", **labels: str
) -> str:
    """`sum by (a, b) (metric{scope})` for this run (`matchers` added, see `scoped`)."""
    return f"sum by ({', '.join(by)}) ({scoped(pipeline, metric, matchers, **labels)})"


def scoped(pipeline: Pipeline, metric: str, matchers: str = "", **labels: str) -> str:
    """`metric{scope}` for this run, with `matchers` (PromQL text such as
    `route!~"/metrics"`) added."""
    selector = pipeline.selector(metric, **labels)
    return f"{selector[:-1]},{matchers}}}" if matchers else selector


def sum_of_resets(pipeline: Pipeline, metric: str, window_s: int, matchers: str = "") -> str:
    """`sum(resets(metric{scope}[window]))`: how often this run's series went down."""
    return f"sum(resets({scoped(pipeline, metric, matchers)}[{window_s}s]))"


def resets_since(
    pipeline: Pipeline, metric: str, started: float, at: datetime, matchers: str = ""
) -> int:
    """How often this run's series of the counter `metric` went down between `started`
    (epoch: the traffic began) and `at`, read by PromQL's `resets()` over that window."""
    margin = 2 * max(1.0, pipeline.settings.scrape_interval_s)
    window = max(1, math.ceil(at.timestamp() - started + margin))
    result = pipeline.store.instant(sum_of_resets(pipeline, metric, window, matchers), at)
    return int(result[0].value) if result else 0


def read_counts(
    pipeline: Pipeline, query: str, by: tuple[str, ...], at: datetime | None = None
) -> Counts:
    """An instant query's result (at `at`, default now) keyed by the values of `by` labels."""
    return {
        tuple(sample.labels.get(label, "") for label in by): sample.value
        for sample in pipeline.store.instant(query, at)
    }


def scraped_after(
    pipeline: Pipeline, metric: str, when: float | None, at: datetime | None = None
) -> bool:
    """Whether every series of `metric` for this run has a sample scraped after `when`
    (epoch seconds; None: always true), read with PromQL's `timestamp()`.

    A scrape taken while the traffic was still being answered holds part of it: a count
    under one label value ahead of its sibling's may be only that. A deviation read from
    counts is final once the store's newest samples all come from after the traffic; so is
    an exact match (a scrape mid-traffic can match the plan by coincidence, with requests
    the ledger cannot explain still to come). No series at all: nothing is on its way.

    A verdict reads its counts and this at the same `at`: evaluated a moment later, this
    could see a scrape that the counts, read before it arrived, do not hold.
    """
    if when is None:
        return True
    result = pipeline.store.instant(f"min(timestamp({pipeline.selector(metric)}))", at)
    return not result or result[0].value >= when


# A backend may record a request's metrics just after it sends the answer (an on-response
# hook): a scrape this long after the last answer holds them.
RECORDING_MARGIN_S = 0.5


def complete_scrape_after(
    pipeline: Pipeline, metric: str, when: float | None, at: datetime | None = None
) -> float | None:
    """Seconds after `when` (epoch) that the store's oldest newest-sample of `metric` was
    scraped, when nothing of `metric` is in flight any more; else None.

    Nothing is in flight when every series of `metric` in the store has a sample scraped
    at least RECORDING_MARGIN_S after `when`, and the store has every series the backend's
    /metrics exposes of it now (none still on its way). Read at `at` (see `scraped_after`;
    `timestamp()` is applied to the selector itself: over any other expression it gives the
    evaluation time).
    """
    if when is None:
        return None
    selector = pipeline.selector(metric)
    newest = pipeline.store.instant(f"min(timestamp({selector}))", at)
    if not newest or newest[0].value < when + RECORDING_MARGIN_S:
        return None
    stored = pipeline.store.instant(f"count({selector})", at)
    try:
        response = pipeline.backend_metrics()
        exposed = parse_samples(response.text) if response.status_code == 200 else None
    except (httpx.TransportError, EndpointError):
        exposed = None
    if exposed is None or not stored:
        return None
    if stored[0].value < sum(1 for sample in exposed if sample.name == metric):
        return None
    return newest[0].value - when


# What an OTLP point stamped after the traffic ended is sure to hold. The backend records
# its metrics before it answers, so any collection after the last answer holds them all;
# a span reaches the span-metrics connector only after the SDK's span delay and the
# receiver's batch (0.2 s each in the test stack), so its flush must come later than that.
OTLP_METRICS_MARGIN_S = 0.1
SPAN_METRICS_MARGIN_S = 1.5


def otlp_margin(family: str) -> float:
    """How long after the traffic an OTLP point of `family` must be stamped to hold it all."""
    return SPAN_METRICS_MARGIN_S if family.startswith("span_") else OTLP_METRICS_MARGIN_S


def complete_export_after(
    pipeline: Pipeline,
    metric: str,
    when: float | None,
    margin_s: float,
    at: datetime | None = None,
) -> float | None:
    """Seconds after `when` (epoch) that the oldest newest-point of `metric` was stamped,
    when every series of it in the store has a point stamped at least `margin_s` after
    `when`; else None.

    The OTLP road's counterpart of `complete_scrape_after`: a cumulative export carries
    every series the backend has, each stamped with the export's collection time, so once
    every stored series has a point from after the traffic, nothing of it is on its way.
    """
    if when is None:
        return None
    newest = pipeline.store.instant(f"min(timestamp({pipeline.selector(metric)}))", at)
    if not newest or newest[0].value < when + margin_s:
        return None
    return newest[0].value - when


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
    note_deviation: Callable[[Finding], None] | None = None,
    traffic_ended: float | None = None,
    otlp_family: str = "",
    matchers: str = "",
    explain: Callable[[Counts], Finding | None] | None = None,
    traffic_started: float | None = None,
) -> Counts:
    """Poll until the increase of `sum by (by) (metric)` since `baseline` equals `expected`.

    `otlp_family` (a role of the contract's `otlp.families`): `metric` comes by the OTLP
    road, whose finality and hops are its own. `matchers` narrow the query (the HTTP counts
    leave out the routes others request). `explain` names a wrong increase in the terms of
    its family (checks/http.py), final once a scrape after the traffic is in the store.

    With `exact` false (a shared deployment, where others add traffic too) the increase
    need only reach `expected`. In our own stack a count above expectation can never come
    back down, so it ends the wait at once. A deviation (a count moved to a sibling label
    value, a metric never created) ends it too, and the failure's first line names it;
    its finding is also passed to `note_deviation`. Given `traffic_ended` (epoch seconds), a
    moved count is named only from samples scraped after it (`scraped_after`).
    """
    wait = CountWait(
        pipeline,
        what=what,
        metric=metric,
        by=by,
        expected=expected,
        baseline=baseline or {},
        exact=exact,
        cancel=cancel,
        note_deviation=note_deviation,
        traffic_ended=traffic_ended,
        otlp_family=otlp_family,
        matchers=matchers,
        explain=explain,
        traffic_started=traffic_started,
    )
    return wait.run()


@dataclass
class CountWait:
    """One wait of `wait_for_counts`: what it expects, and what it learnt while polling.

    Each `probe` reads the increase at one moment and raises HardError as soon as the
    counts can never come right; `settled` ends the poll once they match and are `final`.
    """

    pipeline: Pipeline
    what: str
    metric: str
    by: tuple[str, ...]
    expected: Counts
    baseline: Counts
    exact: bool
    cancel: threading.Event | None = None
    note_deviation: Callable[[Finding], None] | None = None
    traffic_ended: float | None = None
    # The OTLP family `metric` belongs to ("": it is scraped).
    otlp_family: str = ""
    # PromQL matchers the query adds beyond this run's scope.
    matchers: str = ""
    # Names a wrong increase in its family's terms (None: moved or short counts only).
    explain: Callable[[Counts], Finding | None] | None = None
    # When the traffic began (epoch): a shortfall looks for counter resets since then.
    traffic_started: float | None = None
    # `sum by (by) (metric)` for this run.
    query: str = field(init=False)
    # Whether a match can be trusted: re-read from samples scraped after the traffic ended
    # (a wait that need only reach `expected` trusts any match).
    final: bool = field(init=False)
    # The first deviation a probe named: the failure's first sentence.
    deviation: Finding | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.query = sum_by(self.pipeline, self.metric, self.by, self.matchers)
        self.final = not self.exact

    def run(self) -> Counts:
        """Poll until the counts settle; a failure names the deviation first, if one was."""
        # On failure, diagnose the first expected series itself: an empty selector lets the
        # explanation name the label or value that Mimir never saw.
        first = sorted(self.expected)[0] if self.expected else ()
        series_query = self.pipeline.selector(
            self.metric, **dict(zip(self.by, first, strict=False))
        )
        try:
            result = poll_check(
                self.pipeline,
                self.probe,
                self.settled,
                what=f"{self.what}: `{self.query}` to {'equal' if self.exact else 'reach'} "
                f"{describe_counts(self.expected)}",
                describe=describe_counts,
                metric=self.metric,
                query=series_query,
                road=self.road,
                traffic_ended=self.traffic_ended,
            )
        except CheckFailed as exc:
            if self.deviation is not None:
                # The deviation in one sentence first; the wait and the hops after it.
                raise CheckFailed(
                    self.pipeline.masker.mask(f"{self.deviation.render()}.\n{exc}"),
                    (self.deviation,),
                    ladder=exc.ladder,
                ) from None
            raise
        return result.value or {}

    @property
    def road(self) -> str:
        """The road `metric` comes by: "" (scraped) or OTLP."""
        return OTLP if self.otlp_family else ""

    @property
    def after_traffic(self) -> float | None:
        """When a point must be stamped to hold all the traffic (None: no traffic end)."""
        if self.traffic_ended is None or not self.otlp_family:
            return self.traffic_ended
        return self.traffic_ended + otlp_margin(self.otlp_family)

    def holds(self, increase: Counts) -> bool:
        """Whether `increase` is what was expected (not exact: reaches it)."""
        if self.exact:
            return increase == {k: v for k, v in self.expected.items() if v}
        return all(increase.get(key, 0.0) >= value for key, value in self.expected.items())

    def settled(self, increase: Counts) -> bool:
        """The poll's predicate: the counts hold, and the match is final."""
        return self.holds(increase) and self.final

    def read_increase(self, at: datetime) -> Counts:
        """The non-zero increases since the baseline, read at `at`."""
        now = read_counts(self.pipeline, self.query, self.by, at)
        increase = {key: value - self.baseline.get(key, 0.0) for key, value in now.items()}
        return {key: value for key, value in increase.items() if value}

    def probe(self) -> Counts:
        """One attempt: the increase now; HardError when it can never come right."""
        if self.cancel is not None and self.cancel.is_set():
            raise CountCheckCancelled(f"{self.what}: cancelled")
        at = utc_now()  # every read of one verdict at one moment (`scraped_after`)
        increase = self.read_increase(at)
        increase = self._judge_final(increase, at)
        increase = self._raise_if_moved(increase, at)
        self._raise_if_unexplained(increase, at)
        increase = self._raise_if_short(increase, at)
        if not self.holds(increase):
            self._raise_if_never_arrives()
        return increase

    def _judge_final(self, increase: Counts, at: datetime) -> Counts:
        # A verdict that needs the traffic to be over re-reads the counts once the store
        # shows samples scraped after it: samples stamped before `at` may still have been
        # arriving when the counts were read, so those can predate what the check saw.
        if (
            self.exact
            and self.holds(increase)
            and scraped_after(self.pipeline, self.metric, self.after_traffic, at)
        ):
            increase = self.read_increase(at)
            self.final = self.holds(increase)
        return increase

    def _raise_if_moved(self, increase: Counts, at: datetime) -> Counts:
        explain = self.explain
        if (
            explain is not None
            and explain(increase) is not None
            and scraped_after(self.pipeline, self.metric, self.after_traffic, at)
        ):
            increase = self.read_increase(at)
            found = explain(increase)
            if found is not None:
                raise self._deviates(found)
        moved = moved_count(self.expected, increase, self.by, exact=self.exact)
        if moved is not None and scraped_after(self.pipeline, self.metric, self.after_traffic, at):
            increase = self.read_increase(at)
            moved = moved_count(self.expected, increase, self.by, exact=self.exact)
            if moved is not None:
                raise self._deviates(moved_finding(moved, self.metric, self.pipeline.contract))
        return increase

    def _raise_if_unexplained(self, increase: Counts, at: datetime) -> None:
        expected = self.expected
        overshoot = any(increase.get(key, 0.0) > expected.get(key, 0.0) for key in increase)
        if self.exact and overshoot and not could_still_move(expected, increase):
            if self.explain is not None and not scraped_after(
                self.pipeline, self.metric, self.after_traffic, at
            ):
                # Named in its family's terms once a scrape after the traffic is in.
                return
            # Counters only grow: a count above the ledger, or under labels the ledger
            # cannot explain (a missing or renamed label), will never come right.
            unexplained = Finding(
                Kind.COUNTS_UNEXPLAINED,
                subject=self.pipeline.store_name,
                expected=describe_counts(expected),
                seen=describe_counts(increase),
                detail=self.query,
                hop=5,
            )
            raise HardError(unexplained.render(), unexplained)

    def _raise_if_short(self, increase: Counts, at: datetime) -> Counts:
        if self.exact and increase and short_keys(self.expected, increase):
            # Counters only grow, and the traffic is over: once the store holds a complete
            # scrape (or OTLP export) taken after it, a shortfall is the backend's, and final.
            if self.otlp_family:
                margin = otlp_margin(self.otlp_family)
                after = complete_export_after(
                    self.pipeline, self.metric, self.traffic_ended, margin, at
                )
                how = "stamped by an OTLP export"
            else:
                after = complete_scrape_after(self.pipeline, self.metric, self.traffic_ended, at)
                how = "scraped"
            if after is not None:
                increase = self.read_increase(at)
                if short_keys(self.expected, increase):
                    resets = self._resets(at)
                    raise self._deviates(
                        short_finding(
                            self.metric, self.expected, increase, self.by, after, how, resets
                        )
                    )
        return increase

    def _resets(self, at: datetime) -> int:
        if self.traffic_started is None:
            return 0
        return resets_since(self.pipeline, self.metric, self.traffic_started, at, self.matchers)

    def _raise_if_never_arrives(self) -> None:
        try:
            if self.otlp_family:
                raise_if_otlp_never_arrives(self.pipeline, self.otlp_family, self.traffic_ended)
            else:
                raise_if_never_arrives(self.pipeline, self.metric, self.traffic_ended)
        except HardError as exc:
            if isinstance(exc.reason, Finding) and exc.reason.kind in _DEVIATIONS:
                raise self._deviates(exc.reason) from None
            raise

    def _deviates(self, finding: Finding) -> HardError:
        """Keep a deviation (the first is the failure's first sentence) and report it."""
        if self.deviation is None:
            self.deviation = finding
        if self.note_deviation is not None:
            self.note_deviation(finding)
        return HardError(finding.render(), finding)


# What the backend made wrong, named as a deviation (the failure's first sentence).
_DEVIATIONS = (
    Kind.METRIC_NEVER_CREATED,
    Kind.OTLP_NAME_DIFFERS,
    Kind.OTLP_NEVER_PUSHED,
    Kind.OTLP_RESOURCE_DIFFERS,
    Kind.OTLP_POINTS_DROPPED,
)


def raise_if_otlp_never_arrives(
    pipeline: Pipeline, family: str, traffic_ended: float | None
) -> None:
    """Raise HardError when what the OTLP `family` still lacks will never arrive: a hop of
    the OTLP road is broken (verdict.otlp_diagnose), or an export after the traffic is in
    the store without the family (renamed, under another job, dropped, never pushed)."""
    state = otlp_state(pipeline)
    cause = road_cause(pipeline, state, traffic_ended, delivery=False)
    if cause is not None:
        raise HardError(cause.render(), cause)
    route = state.route
    delivery_hard_error(pipeline, route.remote_write if route is not None else None)
    finding = family_finding(pipeline, family, traffic_ended, state)
    if finding is not None:
        raise HardError(finding.render(), finding)


def raise_if_never_arrives(pipeline: Pipeline, metric: str, traffic_ended: float | None) -> None:
    """Raise HardError when what `metric` still lacks will never arrive: a hop reports a
    fault, or the traffic is sent and the backend does not expose the family at all (never
    created, while its siblings are there: that finding's kind is metric-never-created),
    read from /metrics after the traffic ended."""
    pipeline_hard_error(pipeline)
    exposed = hop_backend_metrics(pipeline, metric, traffic_ended if traffic_ended else time.time())
    if exposed.status != "broken":
        return
    if exposed.finding.kind == Kind.METRIC_NOT_EXPOSED:
        missing = _never_created(pipeline, metric)
        if missing is not None:
            raise HardError(missing.render(), missing)
    raise HardError(exposed.headline(), exposed.finding)


def _never_created(pipeline: Pipeline, metric: str) -> Finding | None:
    """The never-created finding for `metric`, read from the backend's /metrics."""
    try:
        response = pipeline.backend_metrics()
        samples = parse_samples(response.text) if response.status_code == 200 else []
    except (httpx.TransportError, EndpointError):
        return None
    return never_created(metric, samples, pipeline.contract, str(response.url))


def wait_for_successes(
    pipeline: Pipeline,
    *,
    what: str,
    planned: Counts,
    baseline: Counts | None = None,
    not_before: float | None = None,
) -> Counts:
    """Poll until the requests counter shows the planned successes (the traffic gate);
    whether the backend exposes the counter is read after `not_before` (epoch: the wave's
    end).

    Only what later checks need: that counting works. How failures are counted, and
    every other family, belong to their own tests. In our own stack, counts that add up
    to the plan but hold none of its successes (a missing or renamed label) end the wait.
    """
    metric, by = count_queries(pipeline)["requests"]
    query = sum_by(pipeline, metric, by)
    base = baseline or {}
    success = pipeline.contract.status_success
    wanted = {key: value for key, value in planned.items() if key[-1] == success}
    exact = not pipeline.settings.external_mode
    if not planned:
        return {}

    def holds(increase: Counts) -> bool:
        if not wanted:  # a plan without successes: anything counted shows counting works
            return sum(increase.values()) >= sum(planned.values())
        return all(increase.get(key, 0.0) >= value for key, value in wanted.items())

    def probe() -> Counts:
        now = read_counts(pipeline, query, by)
        increase = {key: now[key] - base.get(key, 0.0) for key in now}
        increase = {key: value for key, value in increase.items() if value}
        if holds(increase):
            return increase
        pipeline_hard_error(pipeline)
        exposed = hop_backend_metrics(pipeline, metric, not_before)
        if exposed.status == "broken":
            raise HardError(exposed.headline(), exposed.finding)
        if exact and sum(increase.values()) >= sum(planned.values()):
            unexplained = Finding(
                Kind.COUNTS_UNEXPLAINED,
                subject=pipeline.store_name,
                expected=describe_counts(wanted or planned),
                seen=describe_counts(increase),
                detail=query,
                hop=5,
            )
            raise HardError(unexplained.render(), unexplained)
        return increase

    first = sorted(wanted or planned)[0]
    result = poll_check(
        pipeline,
        probe,
        holds,
        what=f"{what}: `{query}` to reach {describe_counts(wanted or planned)}",
        describe=describe_counts,
        metric=metric,
        query=pipeline.selector(metric, **dict(zip(by, first, strict=False))),
    )
    return result.value or {}


def count_baselines(pipeline: Pipeline) -> dict[str, Counts]:
    """Mimir's counts for every role right now: subtracted later to get increases."""
    filters = query_filters(pipeline.contract)
    return {
        role: read_counts(pipeline, sum_by(pipeline, metric, by, filters.get(role, "")), by)
        for role, (metric, by) in count_queries(pipeline).items()
    }


class CountCheckCancelled(Exception):
    """A concurrent count check was told to stop (Ctrl-C or another thread's failure)."""


def settle_counts(
    pipeline: Pipeline,
    settlement: CountSettlement,
    roles: Sequence[str] | None = None,
    what: str = "counts",
) -> dict[str, float]:
    """Poll every count check of `settlement.run` at once, one thread per role; seconds per role.

    Each role's verdict (its counts, or the CheckFailed with its diagnosis) is recorded in
    `settlement`, where `wait_for_planned` returns or re-raises it: the checks cost the
    longest wait, not the sum, and each test still fails with its own message. By default
    the roles are all of COUNT_ROLES, less `errors` for a backend that records none.
    """
    if roles is None:
        recorded = pipeline.contract.errors_recorded
        known = count_queries(pipeline)
        roles = [
            role for role in COUNT_ROLES if role in known and (recorded or role not in ERROR_ROLES)
        ]
    cancel = threading.Event()

    def settle(role: str) -> float:
        started = time.monotonic()
        try:
            settlement.record(role, _wait_for_planned(pipeline, settlement, role, cancel))
        except CountCheckCancelled:
            pass
        except Exception as exc:  # kept for the role's own test, which re-raises it
            settlement.record(role, exc)
        return time.monotonic() - started

    pool = ThreadPoolExecutor(max_workers=len(roles), thread_name_prefix="count-check")
    try:
        futures = {role: pool.submit(settle, role) for role in roles}
        seconds = {role: future.result() for role, future in futures.items()}
        verdicts = settlement.verdicts()
        failed = [role for role in roles if isinstance(verdicts.get(role), Exception)]
        exact = [role for role in roles if role not in failed]
        phase(
            f"{what} settled in {max(seconds.values(), default=0.0):.1f} s: "
            f"{len(exact)} of {len(roles)} exactly the ledger's"
            + (f" (not: {', '.join(failed)})" if failed else ""),
            main=is_main(pipeline),
        )
        return seconds
    finally:
        cancel.set()  # on Ctrl-C, the other threads stop at their next attempt
        pool.shutdown(wait=True)


def wait_for_planned(pipeline: Pipeline, settlement: CountSettlement, role: str) -> Counts:
    """Poll until the count of `role` rose by exactly what the ledger planned.

    When `settle_counts` already polled this role, its verdict is returned (or raised).
    """
    verdict = settlement.verdict(role)
    if verdict is not None:
        if isinstance(verdict, Exception):
            raise verdict
        return verdict
    return _wait_for_planned(pipeline, settlement, role, None)


def _wait_for_planned(
    pipeline: Pipeline, settlement: CountSettlement, role: str, cancel: threading.Event | None
) -> Counts:
    run = settlement.run
    metric, by = count_queries(pipeline)[role]
    expected = planned_counts(run.ledger, pipeline.contract)[role]
    if pipeline.settings.external_mode and role in ("tokens_sum", "otlp_tokens"):
        # A deployment's LLM is real: it ignores the stub's usage markers, so the planned
        # token amounts cannot be predicted; each token type need only grow.
        expected = dict.fromkeys(expected, 1.0)
    exact = not pipeline.settings.external_mode
    explain = (
        http_explainer(metric, expected, run.ledger, pipeline.contract, exact=exact)
        if role in HTTP_ROLES
        else None
    )
    return wait_for_counts(
        pipeline,
        what=role.replace("_", " "),
        metric=metric,
        by=by,
        expected=expected,
        baseline=run.baseline.get(role, {}),
        exact=exact,
        cancel=cancel,
        note_deviation=settlement.note_deviation,
        traffic_ended=run.ledger.finished_at,
        otlp_family=OTLP_FAMILY_OF.get(role, ""),
        matchers=query_filters(pipeline.contract).get(role, ""),
        explain=explain,
        traffic_started=run.ledger.started_at,
    )


def wait_until_settled(pipeline: Pipeline, settlement: CountSettlement, role: str) -> None:
    """Wait until the count check of `role` has ended, whatever its verdict.

    For checks that need the data there but judge something else (bucket bounds, labels):
    a wrong count fails the count's own test, not theirs.
    """
    with contextlib.suppress(CheckFailed):
        wait_for_planned(pipeline, settlement, role)
