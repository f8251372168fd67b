"""How a check waits: poll with a deadline, end at once on a hard error, fail with a diagnosis.

Every check polls the store (Mimir or Cortex) through `poll_check`; when it fails, the
message is the broken hop, what it saw, and the last query and value (verdict.diagnose).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from scanium_e2e.clients.alloy import ScrapeTarget
from scanium_e2e.errors import CheckFailed, EndpointError
from scanium_e2e.findings import OTLP, Finding, Kind
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.polling import (
    HardError,
    PollAborted,
    PollResult,
    PollTimeout,
    TransientError,
    poll,
)
from scanium_e2e.verdict.diagnose import (
    Diagnosis,
    diagnose,
    hop_mimir_ingestion,
    hop_remote_write,
    repeated_scrape_failure,
    scrape_failure,
    scrape_target_name,
    wrong_job,
)
from scanium_e2e.verdict.otlp_diagnose import diagnose_otlp

T = TypeVar("T")

# Consecutive scrapes failing the same way that make a failure without an HTTP status
# final: a passing fault (a restart) is followed by a success, a standing one repeats.
REPEATED_SCRAPES = 2


def diagnosis_of(
    pipeline: Pipeline,
    metric: str | None,
    query: str | None,
    road: str,
    traffic_ended: float | None,
) -> Diagnosis:
    """The hop-by-hop diagnosis of `road` (the scraped one, or OTLP)."""
    if road == OTLP:
        return diagnose_otlp(pipeline, query=query, traffic_ended=traffic_ended)
    return diagnose(pipeline, metric=metric, query=query)


def fail_with_diagnosis(
    pipeline: Pipeline,
    headline: str,
    *,
    metric: str | None = None,
    query: str | None = None,
    reason: object = None,
    road: str = "",
    traffic_ended: float | None = None,
) -> CheckFailed:
    """A CheckFailed whose message is `headline` plus the hop-by-hop diagnosis (masked) of
    `road` (the scraped one, or OTLP).

    Its findings are the first broken hop's and `reason`, the hard error's own finding
    (they differ when a later hop saw the consequence of an earlier one's fault). When both
    name the same fault (hop, kind and subject), `reason` alone: it saw more of it (a scrape
    failing on consecutive scrapes, and how long /metrics takes).
    """
    diagnosis = diagnosis_of(pipeline, metric, query, road, traffic_ended)
    findings: list[Finding] = []
    if diagnosis.first_broken is not None:
        findings.append(diagnosis.first_broken.finding)
    if isinstance(reason, Finding):
        findings = [f for f in findings if _fault(f) != _fault(reason)]
        findings.append(reason)
    rendered = pipeline.masker.mask(diagnosis.render(final=reason is not None))
    return CheckFailed(
        pipeline.masker.mask(f"{headline}\n{rendered}"),
        tuple(findings),
        ladder=tuple(rendered.splitlines()),
    )


def _fault(finding: Finding) -> tuple[int | None, str, str]:
    return finding.hop, str(finding.kind), finding.subject


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
    road: str = "",
    traffic_ended: float | None = None,
) -> PollResult[T]:
    """Poll until `until` holds; on timeout or hard error raise CheckFailed with the
    diagnosis of `road`."""
    try:
        return poll(
            probe,
            until,
            what=what,
            timeout_s=timeout_s or pipeline.settings.data_timeout_s,
            interval_s=pipeline.settings.poll_interval_s,
            describe=describe,
        )
    except PollTimeout as exc:
        raise undecided(
            pipeline, exc, metric=metric, query=query, road=road, traffic_ended=traffic_ended
        ) from None
    except PollAborted as exc:
        raise fail_with_diagnosis(
            pipeline,
            str(exc),
            metric=metric,
            query=query,
            reason=exc.reason,
            road=road,
            traffic_ended=traffic_ended,
        ) from None


def undecided(
    pipeline: Pipeline,
    timeout: PollTimeout,
    *,
    metric: str | None = None,
    query: str | None = None,
    road: str = "",
    traffic_ended: float | None = None,
) -> CheckFailed:
    """A wait that reached its deadline: undecided, never a finding. Its one finding says
    so (kind `undecided`, what was awaited, for how long, the last observation); the hop
    ladder follows as evidence, its broken hops not findings (none was final, or the wait
    would have ended on it)."""
    # The sentence keeps the last observation's first line; the rest (a dashboard's table)
    # follows it in the message.
    first, _, rest = timeout.result.last_seen.partition("\n")
    finding = Finding(
        Kind.UNDECIDED,
        subject=timeout.what,
        seen=f"{timeout.result.elapsed_s:.0f}",
        detail=first,
        road=road,
    )
    diagnosis = diagnosis_of(pipeline, metric, query, road, traffic_ended)
    rendered = pipeline.masker.mask("\n".join("  " + hop.line() for hop in diagnosis.hops))
    body = f"{finding.render()}\n{rest}\n{rendered}" if rest else f"{finding.render()}\n{rendered}"
    return CheckFailed(
        pipeline.masker.mask(body.rstrip("\n")),
        (finding,),
        ladder=tuple(rendered.splitlines()),
    )


def pipeline_hard_error(pipeline: Pipeline, targets: list[ScrapeTarget] | None = None) -> None:
    """Raise HardError when a hop reports a fault that waiting will not cure.

    - Alloy's scrape got an HTTP error status (403, 404, 500) from the target, or failed the
      same way without one (a timeout, a refused connection) on `REPEATED_SCRAPES`
      consecutive scrapes since the run's checks began (one alone may pass: the backend may
      be restarting);
    - Alloy scrapes the target fine, but under another job name than the contract's;
    - Alloy's remote write failed or dropped samples, or the store discarded some (only in
      a stack we started: a shared store's counters hold other tenants' history).
    """
    component = pipeline.contract.scrape.component
    if targets is None:  # a caller that just read them passes them in
        try:
            targets = pipeline.alloy.scrape_targets(component)
        except (TransientError, EndpointError):
            targets = []
    name = scrape_target_name(pipeline)
    for target in targets:
        if not target.up and target.http_status is not None:
            failure = scrape_failure(target, name, component)
            raise HardError(failure.render(), failure)
    since = pipeline.started_at.timestamp()
    for target in targets:
        began = target.last_scrape_at
        if began is None:
            continue
        if began < since:
            # Before this run's checks began (the backend may have been starting): not
            # counted, but a failure there starts timing /metrics, which the diagnosis
            # reports if the failure repeats after they began.
            if not target.up:
                pipeline.prefetch_backend_metrics()
            continue
        scrapes = pipeline.scrape_watch.note(began, "" if target.up else target.last_error)
        if scrapes == 1 and REPEATED_SCRAPES > 1:
            # The diagnosis times /metrics if the failure repeats: start reading it now.
            pipeline.prefetch_backend_metrics()
        if scrapes >= REPEATED_SCRAPES:
            failure = repeated_scrape_failure(pipeline, target, component, scrapes)
            raise HardError(failure.render(), failure)
    mismatch = wrong_job(targets, pipeline.contract.scrape.job, name, component)
    if mismatch is not None:
        raise HardError(mismatch.render(), mismatch)
    delivery_hard_error(pipeline)


def delivery_hard_error(pipeline: Pipeline, remote_write_component: str | None = None) -> None:
    """Raise HardError when remote write (`remote_write_component`, else the scrape's
    writer) or the store fails samples for good: the hops both roads share. Only in a
    stack we started (a shared store's counters hold other tenants' history)."""
    if not pipeline.stack.started_here:
        return
    remote_write = hop_remote_write(pipeline, remote_write_component)
    ingestion = hop_mimir_ingestion(pipeline, remote_write)
    if ingestion.status == "broken":
        raise HardError(ingestion.headline(), ingestion.finding)
    # The store's own counters can lag Alloy's by a fraction of a second (seen with Cortex:
    # Alloy counted the failed push before the store showed its discarded samples). A
    # failure the store does not explain yet is final only once it has stood for a scrape
    # interval; the poll goes on meanwhile, so the store's reason can still arrive.
    stood = pipeline.remote_write_watch.note(
        remote_write.status == "broken",
        time.monotonic(),
        hold_s=max(1.0, pipeline.settings.scrape_interval_s),
    )
    if stood:
        raise HardError(remote_write.headline(), remote_write.finding)
