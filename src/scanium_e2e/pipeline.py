"""The pipeline under verification: endpoints, clients and the scope of this run.

A `Pipeline` is what checks and diagnosis take: the settings, the contract, a query client
over the store, an Alloy client and the stack. It also knows how to scope a selector to
this run, so that runs never read each other's data.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from scanium_e2e.clients.alloy import AlloyClient
from scanium_e2e.clients.query import StoreClient, utc_now
from scanium_e2e.contract import Contract
from scanium_e2e.secrets import Masker
from scanium_e2e.settings import Settings
from scanium_e2e.stack import Stack, StackEndpoints


class RemoteWriteWatch:
    """How long a remote-write failure the store does not explain has stood.

    The store's own counters can lag Alloy's by a fraction of a second, so such a failure
    is final only once it has stood for a while. Every count check polls from its own
    thread and reports what it saw here, so the first sighting is kept under a lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failing_since: float | None = None

    @property
    def failing_since(self) -> float | None:
        """When (time.monotonic) the standing failure was first seen; None: none stands."""
        with self._lock:
            return self._failing_since

    def note(self, failing: bool, now: float, hold_s: float) -> bool:
        """Record whether remote write is failing at `now`; True when the failure has stood
        for `hold_s` seconds since it was first seen. A clear reading starts the clock again."""
        with self._lock:
            if not failing:
                self._failing_since = None
                return False
            if self._failing_since is None:
                self._failing_since = now
            return now - self._failing_since >= hold_s


# How many scrape intervals a reading of /metrics serves the diagnosis's sentences for.
READING_SCRAPES = 10


@dataclass(frozen=True)
class MetricsReading:
    """One GET of the backend's /metrics: its answer or transport error, its seconds, when
    it began (epoch: it holds what the backend counted by then) and ended (monotonic)."""

    response: httpx.Response | None
    error: httpx.TransportError | None
    took_s: float
    began: float = 0.0
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class _PendingReading:
    """A reading under way: its result, and when it began (epoch)."""

    result: Future[MetricsReading]
    began: float


class ScrapeWatch:
    """The backend target's scrapes as the waits saw them, in the order they began: a
    failure that repeats on consecutive scrapes is final, one that a success follows passes.

    Every wait polls Alloy's component API from its own thread and reports each scrape it
    sees (when it began, its error or "" for a success) here, under a lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scrapes: dict[float, str] = {}

    def note(self, began: float, error: str) -> int:
        """Record one scrape (its start, Unix seconds; its error, "" when it succeeded);
        return how many scrapes in a row, up to the newest seen, failed with the newest's
        error (0 when the newest succeeded)."""
        with self._lock:
            self._scrapes[began] = error
            ordered = [self._scrapes[moment] for moment in sorted(self._scrapes)]
        newest = ordered[-1]
        if not newest:
            return 0
        run = 0
        for error_seen in reversed(ordered):
            if error_seen != newest:
                break
            run += 1
        return run


@dataclass
class Pipeline:
    """Everything a check needs, built once per session."""

    settings: Settings
    contract: Contract
    stack: Stack
    store: StoreClient
    alloy: AlloyClient
    masker: Masker
    started_at: datetime = field(default_factory=utc_now)
    # Since when a remote-write failure the store did not explain stands (checks.waits).
    remote_write_watch: RemoteWriteWatch = field(default_factory=RemoteWriteWatch, compare=False)
    # The backend target's scrapes the waits saw (checks.waits: a repeated failure is final).
    scrape_watch: ScrapeWatch = field(default_factory=ScrapeWatch, compare=False)
    # What is read once per run and kept (the OTLP road's route through Alloy).
    memo: dict[str, object] = field(default_factory=dict, compare=False, repr=False)
    _metrics_lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, compare=False, repr=False
    )

    @classmethod
    def connect(
        cls, settings: Settings, contract: Contract, stack: Stack, masker: Masker
    ) -> Pipeline:
        """Clients for a running stack's endpoints."""
        endpoints = stack.endpoints
        found = stack.components
        if found is not None:
            # The user's config names the job and the components; the checks use those.
            scrape = contract.scrape.model_copy(
                update={
                    "job": found.job,
                    "metrics_path": found.metrics_path,
                    "component": found.scrape,
                    "remote_write_component": found.remote_write,
                }
            )
            contract = contract.model_copy(update={"scrape": scrape})
            # Rates and waits follow the config's scrape interval, not the test stack's.
            # Data waits allow two scrapes and Alloy v1.0's 15 s remote-write wake-up.
            settings = dataclasses.replace(
                settings,
                scrape_interval_s=found.scrape_interval_s,
                data_timeout_s=max(settings.data_timeout_s, 2 * found.scrape_interval_s + 30),
            )
        return cls(
            settings=settings,
            contract=contract,
            stack=stack,
            store=StoreClient(
                endpoints.mimir_url,
                prefix=settings.mimir_prefix,
                tenant=settings.tenant,
                name=settings.store_kind.product,
            ),
            alloy=AlloyClient(endpoints.alloy_url),
            masker=masker,
        )

    def __repr__(self) -> str:
        # pytest shows a fixture's arguments in a traceback: one line, not every field.
        return f"Pipeline(run {self.settings.run_id}, {self.store_name} at {self.store.base_url})"

    @property
    def main(self) -> bool:
        """True for the stack under test: its phases are progress lines, not debug logs."""
        return bool(getattr(self.stack, "main", True))

    @property
    def store_name(self) -> str:
        """What messages call the store ("Cortex", "Grafana Mimir")."""
        return self.store.name

    @property
    def endpoints(self) -> StackEndpoints:
        """Where each hop is reached from here."""
        return self.stack.endpoints

    def scope(self, **labels: str) -> str:
        """Label matchers for this run's series of the backend's scrape job, plus `labels`
        (a `job` among them wins: the OTLP road's series carry the backend's service name)."""
        matchers = {"job": self.contract.scrape.job, **self.run_matchers()}
        matchers.update(labels)
        return ",".join(f'{name}="{value}"' for name, value in matchers.items())

    def run_matchers(self) -> dict[str, str]:
        """The matchers that tell this run's series from others' (beyond the job)."""
        if self.settings.external_mode or self.settings.own_alloy_config:
            # Only our own Alloy adds the run_id external label. A started stack has a
            # fresh store of its own, so the user's config is scoped by its job alone.
            return {}
        return {"run_id": self.settings.run_id}

    @property
    def otlp_receiver(self) -> str:
        """The OTLP receiver the backend exports to: the one found in the user's Alloy
        config, else the contract's."""
        found = self.stack.components
        if found is not None and found.otlp is not None:
            return found.otlp.receiver
        return self.contract.otlp.receiver if self.contract.otlp is not None else ""

    def selector(self, metric: str, **labels: str) -> str:
        """`metric{job=...,run_id=...,labels...}`; the job of the road `metric` comes by."""
        otlp = self.contract.otlp
        if otlp is not None and "job" not in labels and metric in self.otlp_series_names:
            labels = {"job": otlp.job, **labels}
        return f"{metric}{{{self.scope(**labels)}}}"

    @property
    def otlp_series_names(self) -> frozenset[str]:
        """The names the OTLP road's series carry in the store (histograms' three each, and
        `target_info`); empty without an OTLP road."""
        otlp = self.contract.otlp
        if otlp is None:
            return frozenset()
        names = {name for spec in otlp.families.values() for name in spec.series_names}
        return frozenset({*names, "target_info"})

    def backend_metrics(self) -> httpx.Response:
        """GET the backend's /metrics over plain HTTP, as Alloy does."""
        return httpx.get(
            self.endpoints.backend_url + self.contract.scrape.metrics_path, timeout=5.0
        )

    def recent_backend_metrics(self, not_before: float | None = None) -> MetricsReading:
        """The backend's /metrics read within the last few scrape intervals (or now), with
        how long it took: the diagnosis reads it for every failing check, and a slow
        /metrics (the fault it may be naming) would make each pay for it again. A reading
        under way (`prefetch_backend_metrics`) is awaited, not repeated.

        `not_before` (epoch): a decision on what /metrics holds (a family not exposed)
        takes only a reading begun at or after it, e.g. after the traffic ended."""
        max_age = READING_SCRAPES * max(1.0, self.settings.scrape_interval_s)
        floor = not_before if not_before is not None else 0.0
        with self._metrics_lock:
            newest = self.memo.get("metrics_reading")
            if isinstance(newest, _PendingReading) and newest.began >= floor:
                pending, owner = newest.result, False
            elif (
                isinstance(newest, MetricsReading)
                and time.monotonic() - newest.at < max_age
                and newest.began >= floor
            ):
                return newest
            else:
                pending, owner = Future(), True
                self.memo["metrics_reading"] = _PendingReading(pending, time.time())
        if not owner:
            reading: MetricsReading = pending.result()
            return reading
        began, wall = time.monotonic(), time.time()
        try:
            response = self.backend_metrics()
            reading = MetricsReading(response, None, time.monotonic() - began, wall)
        except httpx.TransportError as exc:
            reading = MetricsReading(None, exc, time.monotonic() - began, wall)
        with self._metrics_lock:
            self.memo["metrics_reading"] = reading
        pending.set_result(reading)
        return reading

    def prefetch_backend_metrics(self) -> None:
        """Start reading /metrics in the background (a scrape just failed without an HTTP
        status: the diagnosis will time /metrics once the failure repeats), unless a reading
        is under way or recent."""
        max_age = READING_SCRAPES * max(1.0, self.settings.scrape_interval_s)
        with self._metrics_lock:
            newest = self.memo.get("metrics_reading")
            if isinstance(newest, _PendingReading) or (
                isinstance(newest, MetricsReading) and time.monotonic() - newest.at < max_age
            ):
                return
        threading.Thread(
            target=self.recent_backend_metrics, name="metrics-prefetch", daemon=True
        ).start()

    def stub_journal(self) -> list[dict[str, Any]] | None:
        """Every request the stub LLM received and what it answered (its `/_stub/requests`),
        or None when the suite did not start the LLM (a deployment's LLM keeps no journal
        we can read)."""
        if not self.endpoints.stub_url:
            return None
        response = httpx.get(self.endpoints.stub_url + "/_stub/requests", timeout=5.0)
        response.raise_for_status()
        entries = response.json()
        return [entry for entry in entries if isinstance(entry, dict)]

    def close(self) -> None:
        """Release the clients."""
        self.store.close()
        self.alloy.close()
