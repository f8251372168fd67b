"""The human-readable summary of every section that ran."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from typing import Any

from benchmarks.verdict_bench.common import SEED_MANUAL_S, fmt_s
from benchmarks.verdict_bench.tables import table, verdict_table


def render(report: Mapping[str, Any]) -> str:
    """The human-readable summary of every section that ran."""
    out: list[str] = [
        "",
        "=" * 78,
        f"scanium-e2e time to verdict, {report['machine']['date']} on "
        f"{report['machine']['cpus']} CPUs ({report['machine']['platform']})",
        f"seed manual procedure: ~60 s traffic + 90 s wait = ~{SEED_MANUAL_S:.0f} s to a "
        "verdict (presence only)",
        "=" * 78,
    ]
    verdicts = report.get("verdict", {}).get("runs", [])
    if verdicts:
        out += ["", "1. time to verdict (one stack, suite traffic, exact counts)", ""]
        out.append(verdict_table(verdicts))
        out.append("   cold = " + report["verdict"]["cold_definition"])
    extra = report.get("verdict", {}).get("pytest", {})
    if extra:
        out.append("")
        rows = [["command", "wall", "result", "git", "vs seed by hand"]]
        for item in extra.values():
            ratio = SEED_MANUAL_S / item["wall_s"] if item["wall_s"] else math.nan
            rows.append(
                [
                    item["command"],
                    fmt_s(item["wall_s"]),
                    item["summary"][:60],
                    str(item.get("git", "-")),
                    f"{ratio:.1f}x",
                ]
            )
        ok = [run for run in verdicts if run.get("ok")]
        for run in ok:
            rows.append(
                [
                    f"library run '{run['label']}' (compose up -> verdict)",
                    fmt_s(run["total_s"]),
                    "exact counts",
                    "",
                    f"{SEED_MANUAL_S / run['total_s']:.1f}x",
                ]
            )
        out.append(table(rows))
        slow = extra.get("e2e", {}).get("slowest_tests", [])
        if slow:
            out.append("   slowest e2e tests (JUnit time, fixtures included):")
            out += [f"     {fmt_s(case['s']):>8}  {case['test']}" for case in slow]
    diagnosis = report.get("diagnosis")
    if diagnosis:
        out += ["", "2. time to diagnosis of the seed incident (ready -> CheckFailed)", ""]
        rows = [["run", "stack start", "diagnosis", "names HTTP 403", "hard error"]]
        for run in diagnosis["runs"]:
            rows.append(
                [
                    str(run["run"]),
                    fmt_s(run.get("start_to_ready_s")),
                    fmt_s(run.get("diagnosis_s")),
                    str(run.get("names_http_403", "-")),
                    str(run.get("ended_by_hard_error", "-")),
                ]
            )
        out.append(table(rows))
        out.append(
            f"   min {fmt_s(diagnosis.get('min_s'))}, median {fmt_s(diagnosis.get('median_s'))}"
            f" (seed: found by hand after the dashboard stayed empty)"
        )
    memory = report.get("memory")
    if memory:
        out += ["", f"3. peak memory of the stack ({memory['source']})", ""]
        high = memory.get("kernel_high_water_by_service_mib", {})
        rows = [["service", "peak MiB (docker stats)", "cgroup high-water MiB (incl. cache)"]]
        rows += [
            [name, f"{mib:.1f}", f"{high[name]:.1f}" if name in high else "-"]
            for name, mib in memory["peak_by_service_mib"].items()
        ]
        rows.append(["TOTAL (peak of the sum)", f"{memory['peak_total_mib']:.1f}", ""])
        out.append(table(rows))
        out.append(
            f"   {memory['samples']} samples every {memory['interval_s']} s from "
            f"{memory['method']}; the sum peaked {memory['peak_total_at_s']} s after compose up"
        )
    throughput = report.get("throughput")
    if throughput:
        out += ["", "4. traffic generator throughput (reference backend, plain successes)", ""]
        rows = [["clients", "requests", "req/s", "p50", "p95", "Mimir exact", "Mimir wait"]]
        for row in throughput["runs"]:
            if "clients" not in row:
                rows.append(["error", str(row.get("error", ""))[:60], "", "", "", "", ""])
                continue
            rows.append(
                [
                    str(row["clients"]),
                    str(row["requests"]),
                    f"{row['req_per_s']:.0f}",
                    f"{row['p50_ms']:.0f} ms",
                    f"{row['p95_ms']:.0f} ms",
                    "yes" if row.get("mimir_exact") else "NO",
                    fmt_s(row.get("mimir_wait_s")),
                ]
            )
        out.append(table(rows))
    flake = report.get("flake")
    if flake:
        out += [
            "",
            f"5. flake check: {flake['command']} x{flake['runs']} "
            f"(section took {fmt_s(flake['section_s'])})",
            "",
        ]
        rows = [["run", "result", "wall", "git", "summary"]]
        for i, run in enumerate(flake["results"], start=1):
            rows.append(
                [
                    str(i),
                    "pass" if run["passed"] else "FAIL",
                    fmt_s(run["wall_s"]),
                    str(run.get("git", "-")),
                    run["summary"],
                ]
            )
        out.append(table(rows))
        walls = [run["wall_s"] for run in flake["results"]]
        out.append(
            f"   {flake['passes']}/{flake['runs']} passed; wall min {fmt_s(min(walls))}, "
            f"median {fmt_s(statistics.median(walls))}, max {fmt_s(max(walls))}"
        )
    wal = report.get("wal_truncation")
    if wal:
        out += ["", "6. Alloy WAL truncation: test stack (1 s) vs Alloy's default (2h)", ""]
        baseline = [run for run in verdicts if run.get("ok") and run["label"].startswith("warm")]
        out.append(verdict_table([*baseline[:1], wal["run"]]))
        suite = wal.get("pytest_e2e")
        if suite:
            out.append(
                f"   {suite['command']} with 2h: {fmt_s(suite['wall_s'])}, {suite['summary']}"
            )
    out += ["", f"sections took {fmt_s(report.get('elapsed_s'))} in all", ""]
    return "\n".join(out)
