"""Waiting for each service of a stack to be really ready, concurrently."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

import httpx

from scanium_e2e.clients.alloy import AlloyClient
from scanium_e2e.clients.query import StoreClient
from scanium_e2e.polling import HardError, PollAborted, PollTimeout, TransientError, poll
from scanium_e2e.stack import StackEndpoints


class ServicesNotReady(Exception):
    """One or more services did not become ready; `failures` maps each to its wait's error."""

    def __init__(self, failures: dict[str, PollTimeout | PollAborted]) -> None:
        self.failures = failures
        super().__init__("; ".join(f"{name}: {exc}" for name, exc in failures.items()))


def _http_ok(url: str) -> Callable[[], str]:
    def probe() -> str:
        try:
            response = httpx.get(url, timeout=3.0)
        except httpx.TransportError as exc:
            raise TransientError(f"{url} unreachable ({exc!s})") from None
        if response.status_code != 200:
            raise TransientError(f"{url}: HTTP {response.status_code} {response.text[:200]}")
        return f"HTTP 200 {response.text[:80]}"

    return probe


def _mimir_ready(client: StoreClient) -> Callable[[], str]:
    def probe() -> str:
        answer = client.ready()
        # /ready can pass before the query path works: one real query proves both.
        client.instant("vector(1)")
        return f"/ready: {answer}; query ok"

    return probe


# Exited services -> how each ended ("exited with code 1"); {} while all run.
ExitWatch = Callable[[], Mapping[str, str]]


def _watched(name: str, probe: Callable[[], str], exited: ExitWatch | None) -> Callable[[], str]:
    """`probe`, but a service whose container has exited is a hard error at once: a
    rejected config or a crashing image never becomes ready, so waiting is pointless."""
    if exited is None:
        return probe

    def watched() -> str:
        try:
            return probe()
        except TransientError as exc:
            ended = exited().get(name)
            if ended:
                raise HardError(f"{name} {ended} during start-up (last probe: {exc})") from None
            raise

    return watched


def _metrics_served(url: str) -> Callable[[], str]:
    """/health answers, and /metrics exists: an image without it is no backend for us.

    Any answer but 404 will do here (the seed incident's 403 is for the checks to name), and
    so will an answer still being computed after a second: a route that does not exist is
    answered at once, and a slow /metrics (slower than Alloy's scrape timeout, say) is for
    the checks to time and name, not a stack that never becomes ready.
    """
    health = _http_ok(url + "/health")

    def probe() -> str:
        seen = health()
        try:
            response = httpx.get(url + "/metrics", timeout=httpx.Timeout(3.0, read=1.0))
        except httpx.ReadTimeout:
            return seen
        except httpx.TransportError as exc:
            raise TransientError(f"{url}/metrics unreachable ({exc!s})") from None
        if response.status_code == 404:
            raise HardError(
                f"the backend answers /health but has no /metrics (GET {url}/metrics: HTTP 404): "
                "a backend image must serve Prometheus text at /metrics on port 8080 (README, "
                "'Your backend image')"
            )
        return seen

    return probe


def wait_until_ready(
    endpoints: StackEndpoints,
    *,
    tenant: str,
    mimir_prefix: str,
    timeout_s: float,
    store_name: str = "the store",
    exited: ExitWatch | None = None,
    on_ready: Callable[[str, float], None] | None = None,
) -> dict[str, float]:
    """Wait for the store, Alloy, the backend (and the stub) at once; seconds per service.

    `exited` names the services whose container has stopped: each of those fails at once.
    `on_ready` is told each service and its seconds the moment it is ready (progress).
    Raises ServicesNotReady naming every service that did not become ready.
    """
    mimir = StoreClient(endpoints.mimir_url, prefix=mimir_prefix, tenant=tenant, name=store_name)
    alloy = AlloyClient(endpoints.alloy_url)
    probes: dict[str, Callable[[], str]] = {
        "store": _mimir_ready(mimir),
        "alloy": alloy.ready,
        "backend": _metrics_served(endpoints.backend_url),
    }
    if endpoints.stub_url:
        probes["stub-llm"] = _http_ok(endpoints.stub_url + "/health")

    def wait(name: str) -> float:
        result = poll(
            _watched(name, probes[name], exited),
            lambda _: True,
            what=f"{name} readiness",
            timeout_s=timeout_s,
            interval_s=0.25,
            describe=str,
        )
        if on_ready is not None:
            on_ready(name, result.elapsed_s)
        return result.elapsed_s

    try:
        with ThreadPoolExecutor(max_workers=len(probes)) as pool:
            futures = {name: pool.submit(wait, name) for name in probes}
            timings: dict[str, float] = {}
            failures: dict[str, PollTimeout | PollAborted] = {}
            for name, future in futures.items():
                try:
                    timings[name] = future.result()
                except (PollTimeout, PollAborted) as exc:
                    failures[name] = exc
            if failures:
                raise ServicesNotReady(failures)
            return timings
    finally:
        mimir.close()
        alloy.close()
