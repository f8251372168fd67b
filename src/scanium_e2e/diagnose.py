"""Root-cause diagnosis: walk the pipeline hop by hop and name the first broken one.

The hops, in the order data flows:
  1. backend /metrics     - does the backend serve its metrics over plain HTTP?
  2. Alloy's scrape       - what does Alloy's component API say about the target?
  3. remote write         - do Alloy's own counters show failed or dropped samples?
  4. store ingestion      - does the store (Mimir, Cortex) count discarded samples?
  5. the query            - the series is missing: why (metric, label or value never seen)?
Each hop reports what it saw, so a failure message shows evidence, not just a verdict.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import httpx

from scanium_e2e.alloy import ScrapeTarget
from scanium_e2e.errors import EndpointError
from scanium_e2e.metrics_text import parse_samples
from scanium_e2e.mimir import utc_now
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.polling import TransientError

HOP_NAMES = (
    "backend /metrics",
    "Alloy scrape",
    "remote write",
    "store ingestion",
    "query",
)


@dataclass(frozen=True)
class HopReport:
    """What one hop looked like: ok, broken, or unknown (could not be inspected)."""

    number: int
    name: str
    status: str  # "ok", "broken", "consequence" (of a later hop) or "unknown"
    detail: str

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

    def render(self) -> str:
        """A headline naming the broken hop, then one line per hop."""
        broken = self.first_broken
        headline = (
            f"Broken hop: {broken.number}. {broken.name}: {broken.detail}"
            if broken
            else "No hop reports a fault; the data may still be on its way."
        )
        return headline + "\n" + "\n".join("  " + hop.line() for hop in self.hops)


def _body_excerpt(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:200]


def scrape_failure(target: ScrapeTarget, target_name: str) -> str:
    """The one-line cause for a failed scrape, naming the HTTP status when there is one."""
    error = target.last_error
    status = ""
    if "HTTP status" in error:
        status = error.split("HTTP status", 1)[1].strip()
    if status:
        return f"Alloy's scrape of {target_name} got HTTP {status} ({error})"
    return f"Alloy's scrape of {target_name} failed: {error or 'health ' + target.health}"


def hop_backend_metrics(pipeline: Pipeline, metric: str | None) -> HopReport:
    """Hop 1: the backend's /metrics over plain HTTP, as a scraper sees it."""
    url = pipeline.endpoints.backend_url + pipeline.contract.scrape.metrics_path
    try:
        response = pipeline.backend_metrics()
    except httpx.TransportError as exc:
        return HopReport(1, HOP_NAMES[0], "broken", f"GET {url} failed: {exc!s}")
    if response.status_code != 200:
        return HopReport(
            1,
            HOP_NAMES[0],
            "broken",
            f"GET {url} over plain HTTP answered HTTP {response.status_code}: "
            f"{_body_excerpt(response)}",
        )
    try:
        samples = parse_samples(response.text)
    except EndpointError as exc:
        return HopReport(1, HOP_NAMES[0], "broken", f"GET {url}: {exc}")
    if metric:
        names = {sample.name for sample in samples}
        family = {metric, metric + "_bucket", metric + "_count", metric + "_sum"}
        if not names & family:
            return HopReport(
                1,
                HOP_NAMES[0],
                "broken",
                f"GET {url} answered 200 with {len(samples)} samples but none of `{metric}`",
            )
    return HopReport(1, HOP_NAMES[0], "ok", f"GET {url}: HTTP 200, {len(samples)} samples")


def hop_alloy_scrape(pipeline: Pipeline) -> HopReport:
    """Hop 2: the target's health and last error from Alloy's component API."""
    component = pipeline.contract.scrape.component
    try:
        targets = pipeline.alloy.scrape_targets(component)
    except (TransientError, EndpointError) as exc:
        return HopReport(2, HOP_NAMES[1], "unknown", f"component API: {exc}")
    if not targets:
        return HopReport(2, HOP_NAMES[1], "broken", f"{component} has no targets")
    target_name = pipeline.endpoints.scrape_target + pipeline.contract.scrape.metrics_path
    down = [t for t in targets if not t.up]
    if down:
        return HopReport(2, HOP_NAMES[1], "broken", scrape_failure(down[0], target_name))
    job = pipeline.contract.scrape.job
    jobs = {t.labels.get("job", "") for t in targets}
    if job not in jobs:
        return HopReport(
            2,
            HOP_NAMES[1],
            "broken",
            f"Alloy scrapes {target_name} as job {sorted(jobs)}, not job={job!r}",
        )
    return HopReport(2, HOP_NAMES[1], "ok", "; ".join(t.describe() for t in targets))


def hop_remote_write(pipeline: Pipeline) -> HopReport:
    """Hop 3: Alloy's remote-write counters."""
    component = pipeline.contract.scrape.remote_write_component
    try:
        counters = pipeline.alloy.remote_write_counters(component)
    except (TransientError, EndpointError) as exc:
        return HopReport(3, HOP_NAMES[2], "unknown", f"Alloy /metrics: {exc}")
    detail = (
        f"{component}: sent={counters.sent:g} failed={counters.failed:g} "
        f"dropped={counters.dropped:g} retried={counters.retried:g}"
    )
    if counters.failed or counters.dropped:
        last = last_log_line(pipeline, "alloy", ("level=error", "level=warn"), ("remote", "push"))
        return HopReport(
            3, HOP_NAMES[2], "broken", detail + (f"; Alloy log: {last}" if last else "")
        )
    if not counters.sent:
        # Alloy replays its WAL for ~15 s after start before the first send.
        return HopReport(3, HOP_NAMES[2], "unknown", detail + " (nothing sent yet)")
    return HopReport(3, HOP_NAMES[2], "ok", detail)


def hop_mimir_ingestion(pipeline: Pipeline) -> HopReport:
    """Hop 4: the store's discarded-samples counters, by reason (same names in both)."""
    try:
        text = pipeline.mimir.own_metrics()
        samples = parse_samples(text)
    except EndpointError as exc:
        return HopReport(4, HOP_NAMES[3], "unknown", f"{pipeline.store_name} /metrics: {exc}")
    discarded: dict[str, float] = {}
    for sample in samples:
        if sample.name == "cortex_discarded_samples_total" and sample.value:
            reason = sample.labels.get("reason", "?")
            discarded[reason] = discarded.get(reason, 0.0) + sample.value
    received = sum(
        s.value for s in samples if s.name == "cortex_distributor_received_samples_total"
    )
    if discarded:
        reasons = ", ".join(f"{reason}={count:g}" for reason, count in sorted(discarded.items()))
        return HopReport(
            4,
            HOP_NAMES[3],
            "broken",
            f"{pipeline.store_name} discarded samples ({reasons}); received={received:g}",
        )
    return HopReport(4, HOP_NAMES[3], "ok", f"received={received:g} samples, none discarded")


def hop_query(pipeline: Pipeline, query: str | None) -> HopReport:
    """Hop 5: the query itself, and why it is empty when it is."""
    if not query:
        return HopReport(5, HOP_NAMES[4], "unknown", "no query given")
    try:
        result = pipeline.mimir.instant(query)
    except (TransientError, EndpointError) as exc:
        return HopReport(5, HOP_NAMES[4], "broken", f"`{query}`: {exc}")
    if result:
        shown = "; ".join(sample.describe() for sample in result[:5])
        return HopReport(5, HOP_NAMES[4], "ok", f"`{query}` returned {len(result)}: {shown}")
    reasons = explain_missing(pipeline, query)
    return HopReport(5, HOP_NAMES[4], "broken", f"`{query}` is empty: {reasons}")


def explain_missing(pipeline: Pipeline, query: str) -> str:
    """Why a query is empty, pint-style (metric, label or value never seen)."""
    from scanium_e2e.explain import explain_empty

    end = utc_now()
    start = min(pipeline.started_at, end - timedelta(minutes=5))
    try:
        reasons = explain_empty(pipeline.mimir, query, start, end)
    except (TransientError, EndpointError) as exc:
        return f"could not explain ({exc})"
    return "; ".join(r.render() for r in reasons) if reasons else "no explanation found"


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


HopProbe = Callable[[Pipeline], HopReport]


def diagnose(
    pipeline: Pipeline, *, metric: str | None = None, query: str | None = None
) -> Diagnosis:
    """Inspect every hop and return the reports in pipeline order."""
    ingestion = hop_mimir_ingestion(pipeline)
    remote_write = hop_remote_write(pipeline)
    if ingestion.status == "broken" and remote_write.status == "broken":
        # Samples the store refused fail in Alloy too: the cause is the store's.
        remote_write = dataclasses.replace(
            remote_write,
            status="consequence",
            detail=remote_write.detail + f" ({pipeline.store_name} refused them: see hop 4)",
        )
    return Diagnosis(
        hops=(
            hop_backend_metrics(pipeline, metric),
            hop_alloy_scrape(pipeline),
            remote_write,
            ingestion,
            hop_query(pipeline, query),
        )
    )


def component_json(pipeline: Pipeline) -> str:
    """Alloy's scrape component JSON, pretty-printed, for artifacts."""
    try:
        data = pipeline.alloy.component(pipeline.contract.scrape.component)
    except (TransientError, EndpointError) as exc:
        return json.dumps({"error": str(exc)})
    return json.dumps(data, indent=2)
