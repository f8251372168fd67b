"""Waiting for each service of a stack to be really ready, concurrently."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from scanium_e2e.clients.alloy import AlloyClient
from scanium_e2e.clients.query import StoreClient
from scanium_e2e.polling import PollAborted, PollTimeout, TransientError, poll
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


def wait_until_ready(
    endpoints: StackEndpoints,
    *,
    tenant: str,
    mimir_prefix: str,
    timeout_s: float,
    store_name: str = "the store",
) -> dict[str, float]:
    """Wait for the store, Alloy, the backend (and the stub) at once; seconds per service.

    Raises ServicesNotReady naming every service that did not become ready.
    """
    mimir = StoreClient(endpoints.mimir_url, prefix=mimir_prefix, tenant=tenant, name=store_name)
    alloy = AlloyClient(endpoints.alloy_url)
    probes: dict[str, Callable[[], str]] = {
        "store": _mimir_ready(mimir),
        "alloy": alloy.ready,
        "backend": _http_ok(endpoints.backend_url + "/health"),
    }
    if endpoints.stub_url:
        probes["stub-llm"] = _http_ok(endpoints.stub_url + "/health")

    def wait(name: str) -> float:
        result = poll(
            probes[name],
            lambda _: True,
            what=f"{name} readiness",
            timeout_s=timeout_s,
            interval_s=0.25,
            describe=str,
        )
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
