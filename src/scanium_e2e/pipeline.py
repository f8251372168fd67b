"""The pipeline under verification: endpoints, clients and the scope of this run.

A `Pipeline` is what checks and diagnosis take: the settings, the contract, a query client
over the store, an Alloy client and the stack. It also knows how to scope a selector to
this run, so that runs never read each other's data.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from datetime import datetime

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
    # What is read once per run and kept (the OTLP road's route through Alloy).
    memo: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def connect(
        cls, settings: Settings, contract: Contract, stack: Stack, masker: Masker
    ) -> Pipeline:
        """Clients for a running stack's endpoints."""
        endpoints = stack.endpoints
        found = stack.components
        if found is not None:
            # The user's config names the job and the components; the checks use those.
            scrape = dataclasses.replace(
                contract.scrape,
                job=found.job,
                metrics_path=found.metrics_path,
                component=found.scrape,
                remote_write_component=found.remote_write,
            )
            contract = dataclasses.replace(contract, scrape=scrape)
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

    def close(self) -> None:
        """Release the clients."""
        self.store.close()
        self.alloy.close()
