"""Section 1: time to verdict through the library, phase by phase."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Mapping
from typing import Any

from benchmarks.verdict_bench.common import ROLES, Bench, fmt_s, load_snapshot
from benchmarks.verdict_bench.memory import MemorySampler
from benchmarks.verdict_bench.wal import alloy_wal_replay_s
from scanium_e2e.checks.counts import settle_counts, wait_for_planned
from scanium_e2e.checks.scrape import wait_for_up
from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.errors import ScaniumE2EError
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.session.traffic import run_traffic, session_plan
from scanium_e2e.stack.compose import ComposeStack

# The steps of run_traffic it times itself (TrafficRun.timings), in report order.
TRAFFIC_STEPS = ("wave1_send_s", "wave1_gate_s", "wave2_send_s")


def verdict_run(
    bench: Bench,
    label: str,
    *,
    suffix: str,
    overrides: Mapping[str, str] | None = None,
    sample_memory: bool = False,
) -> dict[str, Any]:
    """One full run, phase by phase: start -> up == 1 -> traffic -> five exact counts."""
    settings = bench.variant(suffix, label)
    result: dict[str, Any] = {"label": label, "project": settings.project_name}
    result["load_before"] = load_snapshot()
    stack = ComposeStack(settings, masker=bench.masker, overrides=overrides)
    sampler = MemorySampler(settings.project_name) if sample_memory else None
    pipeline: Pipeline | None = None
    began = time.monotonic()
    with sampler or contextlib.nullcontext():
        try:
            stack.start()
            ready_at = time.monotonic()
            t = stack.timings
            result["start"] = {
                "cleanup_s": t.get("cleanup"),
                "compose_up_s": t["up"] - t["cleanup"],
                "readiness_s": t["start_to_ready"] - t["up"],
                "ready_by_service_s": {
                    key.split(":", 1)[1]: round(value, 2)
                    for key, value in t.items()
                    if key.startswith("ready:")
                },
                "start_to_ready_s": t["start_to_ready"],
                "wall_s": ready_at - began,
            }
            pipeline = Pipeline.connect(settings, bench.contract, stack, bench.masker)
            up = wait_for_up(pipeline)
            green_at = time.monotonic()
            result["first_green"] = {"s": green_at - ready_at, "polls": up.attempts}
            run = run_traffic(pipeline, session_plan(settings, pipeline.contract))
            traffic_at = time.monotonic()
            # run_traffic times its own steps (TrafficRun.timings).
            steps = {key: run.timings.get(key, math.nan) for key in TRAFFIC_STEPS}
            result["traffic"] = {
                "s": traffic_at - green_at,
                **steps,
                "requests": len(run.ledger.entries),
                "surprises": len(run.ledger.surprises),
            }
            for value in run.ledger.planted():
                bench.masker.add(value)
            # As the e2e suite does: every count check polls at once, then each verdict.
            settlement = CountSettlement(run)
            check_times = settle_counts(pipeline, settlement, ROLES)
            for role in ROLES:
                wait_for_planned(pipeline, settlement, role)
            verdict_at = time.monotonic()
            result["checks"] = {"s": verdict_at - traffic_at, "by_role_s": check_times}
            result["total_s"] = verdict_at - began
            result["alloy_wal_replay_s"] = alloy_wal_replay_s(stack.logs("alloy"))
            result["ok"] = True
        except (ScaniumE2EError, AssertionError) as exc:
            result["ok"] = False
            result["error"] = bench.masker.mask(str(exc))[:3000]
        finally:
            if pipeline is not None:
                pipeline.close()
            stopping = time.monotonic()
            stack.stop()
            result["teardown_s"] = time.monotonic() - stopping
    if sampler is not None:
        result["memory"] = sampler.report()
    return result


def describe_verdict(run: Mapping[str, Any]) -> str:
    """One line per run for progress output."""
    if not run.get("ok"):
        return f"  {run['label']}: FAILED: {str(run.get('error', ''))[:300]}"
    return (
        f"  {run['label']}: start {fmt_s(run['start']['start_to_ready_s'])}, first green "
        f"{fmt_s(run['first_green']['s'])}, traffic {fmt_s(run['traffic']['s'])}, checks "
        f"{fmt_s(run['checks']['s'])}, total {fmt_s(run['total_s'])} "
        f"(Alloy WAL replay {fmt_s(run.get('alloy_wal_replay_s'))})"
    )
