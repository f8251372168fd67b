"""One measured run of `benchmarks/phases.py`, in a subprocess, against one checkout.

    python benchmarks/phases_worker.py verdict|diagnosis PROJECT

It imports `scanium_e2e` from PYTHONPATH (the checkout being measured: this one, or the
baseline's), so it uses only what both have: ComposeStack, Pipeline, run_traffic,
settle_counts, wait_for_planned, wait_for_up. It prints one JSON line of seconds:

- verdict: compose up -> ready -> traffic sent -> every exact count green -> removed; and
  when Alloy's first scrape of the backend began, measured from the scrape component's
  start (Alloy's component API, polled every 50 ms in a thread) and from stack ready.
- diagnosis: the incident stack (/metrics not exempt from HTTPS): ready -> `up == 1` fails
  naming HTTP 403.

Nothing here prints the run's API key: errors go through the run's Masker.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import secrets
import sys
import threading
import time
from datetime import datetime
from typing import Any

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
os.environ.setdefault("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")

from scanium_e2e.checks.counts import settle_counts, wait_for_planned
from scanium_e2e.checks.expectations import COUNT_ROLES
from scanium_e2e.checks.scrape import wait_for_up
from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.contract import load_contract
from scanium_e2e.errors import CheckFailed, ScaniumE2EError
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.secrets import Masker
from scanium_e2e.session.traffic import run_traffic, session_plan
from scanium_e2e.settings import Settings
from scanium_e2e.stack.compose import ComposeStack
from scanium_e2e.traffic import TrafficPlan

INCIDENT = {"SCANIUM_E2E_BACKEND_EXEMPT_PATHS": "/health,/healthz,/readyz"}


def _plan(settings: Settings, pipeline: Pipeline) -> TrafficPlan:
    """The session's plan as the checkout under test builds it (an older library's
    session_plan takes no contract: its plan has no latency delays)."""
    if "contract" in inspect.signature(session_plan).parameters:
        return session_plan(settings, pipeline.contract)
    return session_plan(settings)


def _epoch(text: object) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.timestamp() if moment.year > 1 else None


class FirstScrape(threading.Thread):
    """Polls Alloy's scrape component until its target reports a first scrape."""

    def __init__(self, pipeline: Pipeline) -> None:
        super().__init__(name="first-scrape", daemon=True)
        self.pipeline = pipeline
        self.component_started: float | None = None
        self.first_scrape: float | None = None
        self.done = threading.Event()

    def run(self) -> None:
        component = self.pipeline.contract.scrape.component
        deadline = time.monotonic() + 60
        while not self.done.is_set() and time.monotonic() < deadline:
            try:
                data = self.pipeline.alloy.component(component)
            except Exception:
                self.done.wait(0.05)
                continue
            if self.component_started is None:
                self.component_started = _epoch((data.get("health") or {}).get("updatedTime"))
            for target in self.pipeline.alloy.scrape_targets(component):
                scraped = _epoch(target.last_scrape)
                if scraped is not None:
                    self.first_scrape = scraped
                    return
            self.done.wait(0.05)


def verdict(settings: Settings, masker: Masker) -> dict[str, Any]:
    """compose up -> ready -> traffic sent -> exact counts -> removed."""
    contract = load_contract(settings.contract_file)
    stack = ComposeStack(settings, masker=masker)
    result: dict[str, Any] = {}
    began = time.monotonic()
    pipeline: Pipeline | None = None
    try:
        stack.start()
        ready = time.monotonic()
        ready_epoch = time.time()
        result["ready_s"] = ready - began
        pipeline = Pipeline.connect(settings, contract, stack, masker)
        watcher = FirstScrape(pipeline)
        watcher.start()
        run = run_traffic(pipeline, _plan(settings, pipeline))
        sent = time.monotonic()
        result["traffic_s"] = sent - ready
        for value in run.ledger.planted():
            masker.add(value)
        settlement = CountSettlement(run)
        settle_counts(pipeline, settlement, COUNT_ROLES)
        for role in COUNT_ROLES:
            wait_for_planned(pipeline, settlement, role)
        counted = time.monotonic()
        result["counts_s"] = counted - sent
        result["up_to_counts_s"] = counted - began
        watcher.join(timeout=5)
        if watcher.first_scrape is not None:
            result["first_scrape_after_ready_s"] = watcher.first_scrape - ready_epoch
            if watcher.component_started is not None:
                result["first_scrape_after_alloy_start_s"] = (
                    watcher.first_scrape - watcher.component_started
                )
        result["ok"] = True
    except (ScaniumE2EError, AssertionError) as exc:
        result["ok"] = False
        result["error"] = masker.mask(str(exc))[:1500]
    finally:
        if pipeline is not None:
            pipeline.close()
        stopping = time.monotonic()
        stack.stop()
        result["teardown_s"] = time.monotonic() - stopping
    return result


def diagnosis(settings: Settings, masker: Masker) -> dict[str, Any]:
    """The incident stack: ready -> `up == 1` fails, naming HTTP 403."""
    contract = load_contract(settings.contract_file)
    stack = ComposeStack(settings, masker=masker, overrides=INCIDENT)
    result: dict[str, Any] = {}
    pipeline: Pipeline | None = None
    try:
        stack.start()
        ready = time.monotonic()
        pipeline = Pipeline.connect(settings, contract, stack, masker)
        try:
            wait_for_up(pipeline)
        except CheckFailed as exc:
            message = masker.mask(str(exc))
            result["diagnosis_s"] = time.monotonic() - ready
            result["ok"] = "HTTP 403" in message and "not reached within" not in message
            result["headline"] = message.splitlines()[0][:300]
        else:
            result["ok"] = False
            result["error"] = "up == 1 passed on the incident stack"
    except ScaniumE2EError as exc:
        result["ok"] = False
        result["error"] = masker.mask(str(exc))[:1500]
    finally:
        if pipeline is not None:
            pipeline.close()
        stack.stop()
    return result


def main(argv: list[str]) -> int:
    mode, project = argv[1], argv[2]
    base = Settings.from_env(overrides={"project_name": project})
    settings = dataclasses.replace(base, run_id=f"run-phases-{secrets.token_hex(3)}")
    masker = Masker(settings.secrets())
    measured = verdict(settings, masker) if mode == "verdict" else diagnosis(settings, masker)
    print(json.dumps(measured), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
