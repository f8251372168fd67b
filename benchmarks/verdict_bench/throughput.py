"""Section 4: traffic generator throughput at several client counts, exact in Mimir."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from benchmarks.verdict_bench.common import Bench, load_snapshot, percentile, say
from scanium_e2e.checks.counts import count_baselines, wait_for_planned
from scanium_e2e.checks.scrape import wait_for_up
from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.errors import CheckFailed, ScaniumE2EError
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.stack.compose import ComposeStack
from scanium_e2e.traffic import Ledger, TrafficPlan, send_traffic
from scanium_e2e.traffic.run import TrafficRun


def throughput_runs(
    bench: Bench, concurrencies: Sequence[int], successes: int
) -> list[dict[str, Any]]:
    """Send `successes` plain successes at each concurrency to one stack; Mimir must match."""
    settings = bench.variant("throughput", "throughput")
    stack = ComposeStack(settings, masker=bench.masker)
    results: list[dict[str, Any]] = []
    pipeline: Pipeline | None = None
    try:
        stack.start()
        pipeline = Pipeline.connect(settings, bench.contract, stack, bench.masker)
        wait_for_up(pipeline)
        for concurrency in concurrencies:
            row: dict[str, Any] = {"clients": concurrency, "load_before": load_snapshot()}
            baseline = count_baselines(pipeline)
            plan = TrafficPlan(
                api_key=settings.api_key,
                bearer_token=settings.bearer_token,
                run_id=settings.run_id,
                provider=settings.provider,
                successes=successes,
                provider_errors=0,
                validation_errors=0,
                unauthorized=0,
                unknown_route=0,
                canaries=False,
                concurrency=concurrency,
            )
            ledger: Ledger = send_traffic(stack.endpoints.backend_url, plan)
            latencies = [entry.latency_ms for entry in ledger.entries]
            row.update(
                {
                    "requests": len(ledger.entries),
                    "duration_s": ledger.duration_s,
                    "req_per_s": len(ledger.entries) / ledger.duration_s
                    if ledger.duration_s
                    else math.nan,
                    "p50_ms": percentile(latencies, 50),
                    "p95_ms": percentile(latencies, 95),
                    "max_ms": max(latencies, default=math.nan),
                    "surprises": len(ledger.surprises),
                    "retries": ledger.retries,
                }
            )
            started = time.monotonic()
            try:
                counts = wait_for_planned(
                    pipeline, CountSettlement(TrafficRun(ledger, baseline)), "requests"
                )
                row["mimir_exact"] = True
                row["mimir_counts"] = {"/".join(key): value for key, value in counts.items()}
            except CheckFailed as exc:
                row["mimir_exact"] = False
                row["error"] = bench.masker.mask(str(exc))[:2000]
            row["mimir_wait_s"] = time.monotonic() - started
            results.append(row)
            say(
                f"  {concurrency:>3} clients: {row['req_per_s']:.0f} req/s, p50 "
                f"{row['p50_ms']:.0f} ms, p95 {row['p95_ms']:.0f} ms, Mimir exact: "
                f"{row['mimir_exact']} (after {row['mimir_wait_s']:.1f} s)"
            )
    except ScaniumE2EError as exc:
        results.append({"error": bench.masker.mask(str(exc))[:2000]})
    finally:
        if pipeline is not None:
            pipeline.close()
        stack.stop()
    return results
