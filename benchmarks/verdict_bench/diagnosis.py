"""Section 2: time to diagnosis of the seed incident (/metrics missing from the exempt list)."""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

from benchmarks.verdict_bench.common import PROJECT, Bench, load_snapshot, new_run_id
from scanium_e2e.checks.scrape import wait_for_up
from scanium_e2e.errors import CheckFailed, ScaniumE2EError
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.stack.compose import variant_stack

# The backend's exempt list before the fix: /metrics missing (e2e/test_seed_incident.py).
INCIDENT = {"SCANIUM_E2E_BACKEND_EXEMPT_PATHS": "/health,/healthz,/readyz"}


def diagnosis_run(bench: Bench, index: int) -> dict[str, Any]:
    """Ready -> the CheckFailed of wait_for_up on the incident stack (must name HTTP 403)."""
    settings = dataclasses.replace(
        bench.settings, project_name=PROJECT, run_id=new_run_id(f"incident{index}")
    )
    result: dict[str, Any] = {"run": index, "load_before": load_snapshot()}
    began = time.monotonic()
    try:
        # Project `scanium-e2e-bench-incident`: variant_stack appends the name.
        with variant_stack(settings, "incident", INCIDENT, bench.masker) as stack:
            result["start_to_ready_s"] = time.monotonic() - began
            pipeline = Pipeline.connect(stack.settings, bench.contract, stack, bench.masker)
            started = time.monotonic()
            try:
                wait_for_up(pipeline)
            except CheckFailed as exc:
                message = bench.masker.mask(str(exc))
                result["diagnosis_s"] = time.monotonic() - started
                result["names_http_403"] = "HTTP 403" in message
                result["ended_by_hard_error"] = "not reached within" not in message
                result["headline"] = message.splitlines()[0][:400]
            else:
                result["diagnosis_s"] = math.nan
                result["names_http_403"] = False
                result["headline"] = "wait_for_up passed on the incident stack (unexpected)"
            finally:
                pipeline.close()
    except ScaniumE2EError as exc:
        result["error"] = bench.masker.mask(str(exc))[:2000]
    return result
