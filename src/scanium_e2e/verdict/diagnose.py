"""Root-cause diagnosis: walk the pipeline hop by hop and name the first broken one.

The hops, in the order data flows:
  1. backend /metrics     - does the backend serve its metrics over plain HTTP?
  2. Alloy's scrape       - what does Alloy's component API say about the target?
  3. remote write         - do Alloy's own counters show failed or dropped samples?
  4. store ingestion      - does the store (Mimir, Cortex) count discarded samples?
  5. the query            - the series is missing: why (metric, label or value never seen)?
Each hop reports what it saw as a Finding, so a failure message shows evidence, not just
a verdict, and code can decide on the finding's kind instead of on its words.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import timedelta

import httpx

from scanium_e2e.clients.alloy import RemoteWriteCounters, ScrapeTarget, decode_arguments
from scanium_e2e.clients.query import utc_now
from scanium_e2e.errors import EndpointError
from scanium_e2e.findings import HOP_NAMES, Finding, Kind
from scanium_e2e.metrics_text import parse_samples
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.polling import TransientError
from scanium_e2e.stack.alloy_config import seconds_of


@dataclass(frozen=True)
class HopReport:
    """What one hop looked like: ok, broken, or unknown (could not be inspected)."""

    number: int
    name: str
    status: str  # "ok", "broken", "consequence" (of a later hop) or "unknown"
    finding: Finding
    # Hop 3's Alloy counters, when they could be read.
    counters: RemoteWriteCounters | None = None

    @property
    def detail(self) -> str:
        """What the hop saw, as text."""
        return self.finding.render()

    def headline(self) -> str:
        """`remote write: ...` form, for a hard error."""
        return f"{self.name}: {self.detail}"

    def line(self) -> str:
        """`hop 2 (Alloy scrape): broken - ...` form."""
        return f"hop {self.number} ({self.name}): {self.status} - {self.detail}"


@dataclass(frozen=True)
class Diagnosis:
    """The hop reports, in pipeline order."""

    hops: tuple[HopReport, ...]

    @property
    def first_broken(self) -> HopReport | None:
        """The first hop whose status is broken."""
        return next((hop for hop in self.hops if hop.status == "broken"), None)

    def render(self, *, final: bool = False) -> str:
        """A headline naming the broken hop, then one line per hop.

        `final`: the wait ended on a verdict nothing can change (a hard error), so when no
        hop reports a fault the data is all there and the backend counted it so.
        """
        broken = self.first_broken
        if broken:
            headline = f"Broken hop: {broken.number}. {broken.name}: {broken.detail}"
        elif final:
            headline = (
                "No hop reports a fault: every hop delivered, so what the store shows is what "
                "the backend recorded."
            )
        else:
            headline = "No hop reports a fault; the data may still be on its way."
        return headline + "\n" + "\n".join("  " + hop.line() for hop in self.hops)


def _hop(number: int, status: str, finding: Finding) -> HopReport:
    return HopReport(number, HOP_NAMES[number - 1], status, replace(finding, hop=number))


def _body_excerpt(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:200]


def scrape_failure(target: ScrapeTarget, target_name: str, component: str = "") -> Finding:
    """The cause of a failed scrape: the HTTP status when Alloy got one, else its error;
    `component` names the scrape component that failed."""
    if target.http_status is not None:
        return Finding(
            Kind.HTTP_STATUS,
            subject=target_name,
            seen=f"{target.http_status} {target.http_reason}".strip(),
            detail=target.last_error,
            hop=2,
            component=component,
        )
    return Finding(
        Kind.SCRAPE_FAILED,
        subject=target_name,
        seen=target.health,
        detail=target.last_error or "health " + target.health,
        hop=2,
        component=component,
    )


def repeated_scrape_failure(
    pipeline: Pipeline, target: ScrapeTarget, component: str, scrapes: int
) -> Finding:
    """A scrape that failed the same way (without an HTTP status: a timeout, a refused
    connection) on `scrapes` consecutive scrapes: final, with what hop 1 sees of it: how
    long the backend's /metrics takes to answer, against the scrape timeout Alloy runs."""
    failure = scrape_failure(target, scrape_target_name(pipeline), component)
    # Timed once a run: every wait that meets the failure says the same of it.
    seen = pipeline.memo.get("metrics_answer")
    if not isinstance(seen, str):
        seen = pipeline.memo["metrics_answer"] = _metrics_answer(pipeline, component)
    return replace(failure, detail=f"{failure.detail}, on {scrapes} consecutive scrapes; {seen}")


def _metrics_answer(pipeline: Pipeline, component: str) -> str:
    """How long the backend's /metrics takes to answer here, and Alloy's scrape timeout."""
    url = pipeline.endpoints.backend_url + pipeline.contract.scrape.metrics_path
    reading = pipeline.recent_backend_metrics()
    if reading.response is not None:
        answered = (
            f"GET {url} answers HTTP {reading.response.status_code} in {reading.took_s:.1f} s"
        )
    else:
        answered = f"GET {url} failed after {reading.took_s:.1f} s ({reading.error})"
    try:
        arguments = decode_arguments(pipeline.alloy.component(component))
    except (TransientError, EndpointError):
        return answered
    limit = seconds_of(arguments.get("scrape_timeout"), 10.0)
    return f"{answered}, the scrape timeout is {limit:g} s"


def wrong_job(
    targets: list[ScrapeTarget], job: str, target_name: str, component: str = ""
) -> Finding | None:
    """Alloy scrapes the target fine, but under none of its targets is the contract's job."""
    if not targets or not all(t.up for t in targets):
        return None
    jobs = sorted({t.labels.get("job", "") for t in targets})
    if job in jobs:
        return None
    return Finding(
        Kind.WRONG_JOB,
        subject=target_name,
        expected=repr(job),
        seen=str(jobs),
        hop=2,
        component=component,
    )


def hop_backend_metrics(
    pipeline: Pipeline, metric: str | None, not_before: float | None = None
) -> HopReport:
    """Hop 1: the backend's /metrics over plain HTTP, as a scraper sees it. `not_before`
    (epoch): whether `metric` is exposed is read from a reading begun after it (a reading
    taken before the traffic lacks what the traffic creates)."""
    url = pipeline.endpoints.backend_url + pipeline.contract.scrape.metrics_path
    reading = pipeline.recent_backend_metrics(not_before)
    response = reading.response
    if response is None:
        return _hop(1, "broken", Finding(Kind.UNREACHABLE, subject=url, detail=str(reading.error)))
    if response.status_code != 200:
        status = Finding(
            Kind.HTTP_STATUS,
            subject=url,
            expected="200",
            seen=str(response.status_code),
            detail=_body_excerpt(response),
        )
        return _hop(1, "broken", status)
    try:
        samples = parse_samples(response.text)
    except EndpointError as exc:
        return _hop(1, "broken", Finding(Kind.UNPARSABLE, subject=url, detail=str(exc)))
    if metric:
        names = {sample.name for sample in samples}
        family = {metric, metric + "_bucket", metric + "_count", metric + "_sum"}
        if not names & family:
            missing = Finding(
                Kind.METRIC_NOT_EXPOSED, subject=url, expected=metric, seen=str(len(samples))
            )
            return _hop(1, "broken", missing)
    return _hop(1, "ok", Finding(Kind.METRICS_SERVED, subject=url, seen=str(len(samples))))


def hop_alloy_scrape(pipeline: Pipeline) -> HopReport:
    """Hop 2: the target's health and last error from Alloy's component API."""
    component = pipeline.contract.scrape.component
    try:
        targets = pipeline.alloy.scrape_targets(component)
    except (TransientError, EndpointError) as exc:
        unreachable = Finding(Kind.UNREACHABLE, subject="component API", detail=str(exc))
        return _hop(2, "unknown", unreachable)
    if not targets:
        return _hop(2, "broken", Finding(Kind.NO_TARGETS, subject=component))
    target_name = scrape_target_name(pipeline)
    down = [t for t in targets if not t.up]
    if down:
        return _hop(2, "broken", scrape_failure(down[0], target_name, component))
    mismatch = wrong_job(targets, pipeline.contract.scrape.job, target_name, component)
    if mismatch is not None:
        return _hop(2, "broken", mismatch)
    up = Finding(
        Kind.TARGETS_UP,
        subject=component,
        seen=str(len(targets)),
        detail="; ".join(t.describe() for t in targets),
    )
    return _hop(2, "ok", up)


def scrape_target_name(pipeline: Pipeline) -> str:
    """`scanium-backend:8080/metrics`: the target as failure messages name it."""
    return pipeline.endpoints.scrape_target + pipeline.contract.scrape.metrics_path


def hop_remote_write(pipeline: Pipeline, component: str | None = None) -> HopReport:
    """Hop 3: Alloy's remote-write counters (of `component`, else the scrape's writer)."""
    component = component or pipeline.contract.scrape.remote_write_component
    try:
        counters = pipeline.alloy.remote_write_counters(component)
    except (TransientError, EndpointError) as exc:
        unreachable = Finding(Kind.UNREACHABLE, subject="Alloy /metrics", detail=str(exc))
        return _hop(3, "unknown", unreachable)
    seen = (
        f"sent={counters.sent:g} failed={counters.failed:g} "
        f"dropped={counters.dropped:g} retried={counters.retried:g}"
    )
    if counters.failed or counters.dropped:
        last = last_log_line(pipeline, "alloy", ("level=error", "level=warn"), ("remote", "push"))
        failed = Finding(
            Kind.SAMPLES_FAILED,
            subject=component,
            expected="failed=0 dropped=0",
            seen=seen,
            detail=f"; Alloy log: {last}" if last else "",
        )
        return replace(_hop(3, "broken", failed), counters=counters)
    if not counters.sent:
        # Alloy replays its WAL for ~15 s after start before the first send.
        nothing = Finding(Kind.NOTHING_SENT, subject=component, seen=seen)
        return replace(_hop(3, "unknown", nothing), counters=counters)
    sent = Finding(Kind.SAMPLES_SENT, subject=component, seen=seen)
    return replace(_hop(3, "ok", sent), counters=counters)


def hop_mimir_ingestion(pipeline: Pipeline, remote_write: HopReport) -> HopReport:
    """Hop 4: the store's discarded-samples counters, by reason (same names in both);
    `remote_write` is hop 3's report, which says whether Alloy saw its pushes fail."""
    try:
        text = pipeline.store.own_metrics()
        samples = parse_samples(text)
    except EndpointError as exc:
        unreachable = Finding(
            Kind.UNREACHABLE, subject=f"{pipeline.store_name} /metrics", detail=str(exc)
        )
        return _hop(4, "unknown", unreachable)
    discarded: dict[str, float] = {}
    for sample in samples:
        if sample.name == "cortex_discarded_samples_total" and sample.value:
            reason = sample.labels.get("reason", "?")
            discarded[reason] = discarded.get(reason, 0.0) + sample.value
    received = sum(
        s.value for s in samples if s.name == "cortex_distributor_received_samples_total"
    )
    # Cortex does not always count a refused push under a reason (seen with its per-user
    # series limit: every sample refused, no cortex_discarded_samples_total), but its
    # ingesters count every sample they failed.
    failed = sum(
        s.value for s in samples if s.name == "cortex_ingester_ingested_samples_failures_total"
    )
    if not discarded and failed:
        discarded["refused by its ingesters, no reason counted"] = failed
    others = ""
    if discarded and not _pushes_refused(remote_write):
        # The store counts the samples of its other writers too (its ruler's recordings
        # and ALERTS: seen in CI, out-of-order samples while two rule groups wrote one
        # series, Alloy's pushes all accepted). A refused sample fails Alloy's push (HTTP
        # 400) or makes it retry (429): without either, the refusals are not the pipeline's.
        reasons = ", ".join(f"{reason}={count:g}" for reason, count in sorted(discarded.items()))
        others = f"; it refused samples of its other writers (its ruler): {reasons}"
        discarded = {}
    if discarded:
        reasons = ", ".join(f"{reason}={count:g}" for reason, count in sorted(discarded.items()))
        refused = Finding(
            Kind.SAMPLES_DISCARDED,
            subject=pipeline.store_name,
            seen=reasons,
            detail=f"received={received:g}",
        )
        return _hop(4, "broken", refused)
    accepted = Finding(
        Kind.SAMPLES_ACCEPTED,
        subject=pipeline.store_name,
        seen=f"received={received:g}",
        detail=others,
    )
    return _hop(4, "ok", accepted)


def _pushes_refused(remote_write: HopReport) -> bool:
    """Whether hop 3 saw Alloy's pushes fail, drop or retry samples (unreachable: they
    may have)."""
    counters = remote_write.counters
    if counters is None:
        return remote_write.finding.kind == Kind.UNREACHABLE
    return bool(counters.failed or counters.dropped or counters.retried)


def hop_query(pipeline: Pipeline, query: str | None) -> HopReport:
    """Hop 5: the query itself, and why it is empty when it is."""
    if not query:
        return _hop(5, "unknown", Finding(Kind.NO_QUERY))
    try:
        result = pipeline.store.instant(query)
    except (TransientError, EndpointError) as exc:
        return _hop(5, "broken", Finding(Kind.QUERY_REJECTED, subject=query, detail=str(exc)))
    if result:
        shown = "; ".join(sample.describe() for sample in result[:5])
        returned = Finding(Kind.QUERY_RETURNED, subject=query, seen=str(len(result)), detail=shown)
        return _hop(5, "ok", returned)
    empty = Finding(Kind.QUERY_EMPTY, subject=query, causes=tuple(explain_missing(pipeline, query)))
    return _hop(5, "broken", empty)


def explain_missing(pipeline: Pipeline, query: str) -> list[Finding]:
    """Why a query is empty, pint-style (metric, label or value never seen)."""
    from scanium_e2e.verdict.empty_query import explain_empty

    end = utc_now()
    start = min(pipeline.started_at, end - timedelta(minutes=5))
    try:
        reasons = explain_empty(pipeline.store, query, start, end)
    except (TransientError, EndpointError) as exc:
        return [Finding(Kind.COULD_NOT_EXPLAIN, subject=query, detail=str(exc))]
    return reasons or [Finding(Kind.UNEXPLAINED, subject=query)]


def last_log_line(
    pipeline: Pipeline, service: str, levels: tuple[str, ...], topics: tuple[str, ...]
) -> str:
    """The last (masked) log line of a service at one of `levels` about one of `topics`."""
    if not pipeline.stack.started_here:
        return ""
    for line in reversed(pipeline.stack.logs(service).splitlines()):
        if any(level in line for level in levels) and any(topic in line for topic in topics):
            return line.strip()[:400]
    return ""


def diagnose(
    pipeline: Pipeline, *, metric: str | None = None, query: str | None = None
) -> Diagnosis:
    """Inspect every hop and return the reports in pipeline order.

    The backend's /metrics is read beside the other hops (a slow one, the very fault a
    timed-out scrape names, would otherwise hold up the whole diagnosis).
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hop-1") as pool:
        backend = pool.submit(hop_backend_metrics, pipeline, metric)
        remote_write = hop_remote_write(pipeline)
        ingestion = hop_mimir_ingestion(pipeline, remote_write)
        scrape = hop_alloy_scrape(pipeline)
        query_report = hop_query(pipeline, query)
        backend_report = backend.result()
    if ingestion.status == "broken" and remote_write.status == "broken":
        # Samples the store refused fail in Alloy too: the cause is the store's.
        cause = f" ({pipeline.store_name} refused them: see hop 4)"
        remote_write = replace(
            remote_write,
            status="consequence",
            finding=replace(remote_write.finding, detail=remote_write.finding.detail + cause),
        )
    return Diagnosis(hops=(backend_report, scrape, remote_write, ingestion, query_report))


def component_json(pipeline: Pipeline) -> str:
    """Alloy's scrape component JSON, pretty-printed, for artifacts."""
    try:
        data = pipeline.alloy.component(pipeline.contract.scrape.component)
    except (TransientError, EndpointError) as exc:
        return json.dumps({"error": str(exc)})
    return json.dumps(data, indent=2)
