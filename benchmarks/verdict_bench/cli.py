"""The benchmark's arguments and its run of every section, in order."""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.verdict_bench.common import PROJECT, Bench, fmt_s, load_snapshot, machine, say
from benchmarks.verdict_bench.diagnosis import diagnosis_run
from benchmarks.verdict_bench.page_cache import evict_page_cache
from benchmarks.verdict_bench.pytest_runs import run_pytest, slowest_tests
from benchmarks.verdict_bench.report import render
from benchmarks.verdict_bench.throughput import throughput_runs
from benchmarks.verdict_bench.verdict import describe_verdict, verdict_run
from benchmarks.verdict_bench.wal import WAL_DEFAULT, wal_knob_present
from scanium_e2e.contract import load_contract
from scanium_e2e.secrets import Masker
from scanium_e2e.settings import Settings


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time-to-verdict benchmark of the scanium-e2e suite (docs/performance.md)."
    )
    parser.add_argument("--flake-runs", type=int, default=10, help="e2e suite runs (default 10)")
    parser.add_argument("--skip-flake", action="store_true", help="skip the flake check")
    parser.add_argument(
        "--skip-wal", action="store_true", help="skip the Alloy WAL truncation comparison"
    )
    parser.add_argument("--diagnosis-runs", type=int, default=3, help="incident stacks (3)")
    parser.add_argument(
        "--throughput-requests", type=int, default=200, help="successes per client count (200)"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the raw numbers here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    settings = Settings.from_env(overrides={"project_name": PROJECT})
    bench = Bench(settings, load_contract(settings.contract_file), Masker(settings.secrets()))
    report: dict[str, Any] = {"machine": machine(), "load_start": load_snapshot()}

    def save() -> None:
        report["elapsed_s"] = time.monotonic() - started
        if args.json is not None:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            text = bench.masker.mask(json.dumps(report, indent=2, default=str))
            args.json.write_text(text + "\n", encoding="utf-8")

    images = [
        settings.store_image,
        settings.images.alloy,
        settings.images.backend,
        settings.images.stub_llm,
    ]
    say(f"1. time to verdict (projects {PROJECT}-cold/-warm)")
    sharing = subprocess.run(
        ["docker", "ps", "-q", *(f"--filter=ancestor={image}" for image in images)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    ).stdout.split()
    eviction = evict_page_cache(images)
    cold_definition = (
        "first stack start of this process right after `sync` + posix_fadvise(DONTNEED) on "
        f"every file of the 4 images' overlay2 layers ({eviction['files']} files, "
        f"{eviction['bytes'] / 1e6:.0f} MB; {len(sharing)} running containers of other "
        "projects used these images and keep their mapped pages). drop_caches is not "
        "writable here; the VM's disk may still be cached by its host."
    )
    runs = [verdict_run(bench, "cold", suffix="cold")]
    runs[0]["eviction"] = eviction
    say(describe_verdict(runs[0]))
    for name in ("warm-1", "warm-2"):
        runs.append(verdict_run(bench, name, suffix="warm"))
        say(describe_verdict(runs[-1]))
    report["verdict"] = {"cold_definition": cold_definition, "runs": runs}
    save()

    say("3. peak memory (a full warm run with the sampler on)")
    sampled = verdict_run(bench, "warm-sampled", suffix="memory", sample_memory=True)
    say(describe_verdict(sampled))
    report["verdict"]["runs"].append(sampled)
    if "memory" in sampled:
        report["memory"] = {
            **sampled["memory"],
            "source": "usage - inactive file, as docker stats, run 'warm-sampled'",
        }
    save()

    if not args.skip_wal and wal_knob_present():
        say("6. Alloy WAL truncation at Alloy's default (2h), as production")
        wal_run = verdict_run(bench, "wal-2h", suffix="wal2h", overrides=WAL_DEFAULT)
        say(describe_verdict(wal_run))
        # The whole suite too: compose reads the variable from the environment as well, so
        # every stack of the session gets it.
        suite = run_pytest(
            ["e2e/", "-q", "-p", "no:cacheprovider"],
            project=f"{PROJECT}-wal2h-pytest",
            timeout_s=1800,
            extra_env=WAL_DEFAULT,
        )
        say(f"  pytest e2e/ with 2h: {fmt_s(suite['wall_s'])} {suite['summary']}")
        report["wal_truncation"] = {"override": WAL_DEFAULT, "run": wal_run, "pytest_e2e": suite}
        save()

    say(f"2. time to diagnosis x{args.diagnosis_runs} (project {PROJECT}-incident)")
    diagnosis_results = []
    for index in range(1, args.diagnosis_runs + 1):
        diagnosis_results.append(diagnosis_run(bench, index))
        last = diagnosis_results[-1]
        say(
            f"  run {index}: {fmt_s(last.get('diagnosis_s'))} "
            f"(HTTP 403 named: {last.get('names_http_403')}) {last.get('error', '')[:200]}"
        )
    times = [
        run["diagnosis_s"]
        for run in diagnosis_results
        if isinstance(run.get("diagnosis_s"), float) and not math.isnan(run["diagnosis_s"])
    ]
    report["diagnosis"] = {
        "runs": diagnosis_results,
        "min_s": min(times) if times else None,
        "median_s": statistics.median(times) if times else None,
    }
    save()

    say(f"4. throughput (project {PROJECT}-throughput)")
    report["throughput"] = {
        "plan": f"{args.throughput_requests} successes, nothing else, canaries off",
        "runs": throughput_runs(bench, (1, 10, 100), args.throughput_requests),
    }
    save()

    say("1b. pytest wall times (subprocesses)")
    pytest_results: dict[str, Any] = {}
    pytest_results["unit"] = run_pytest(
        ["tests/", "-q", "-p", "no:cacheprovider"], project=None, timeout_s=900
    )
    say(f"  tests/: {fmt_s(pytest_results['unit']['wall_s'])} {pytest_results['unit']['summary']}")
    with tempfile.TemporaryDirectory(prefix="scanium-e2e-bench-junit-") as workdir:
        junit = Path(workdir) / "junit.xml"
        e2e = run_pytest(
            ["e2e/", "-q", "-p", "no:cacheprovider"],
            project=f"{PROJECT}-pytest",
            timeout_s=1800,
            junit=junit,
        )
        e2e["slowest_tests"] = slowest_tests(junit)
    pytest_results["e2e"] = e2e
    say(f"  e2e/: {fmt_s(e2e['wall_s'])} {e2e['summary']}")
    report["verdict"]["pytest"] = pytest_results
    save()

    if not args.skip_flake and args.flake_runs > 0:
        say(f"5. flake check x{args.flake_runs} (project {PROJECT}-flake)")
        flake_started = time.monotonic()
        flake_args = ["e2e/", "-q", "-p", "no:cacheprovider"]
        results: list[dict[str, Any]] = []
        for index in range(1, args.flake_runs + 1):
            load = load_snapshot()
            result = run_pytest(flake_args, project=f"{PROJECT}-flake", timeout_s=1800)
            result["load_before"] = load
            results.append(result)
            say(
                f"  run {index}: {'pass' if result['passed'] else 'FAIL'} "
                f"{fmt_s(result['wall_s'])} {result['summary']}"
            )
            report["flake"] = {
                "command": "python -m pytest " + " ".join(flake_args),
                "runs": len(results),
                "passes": sum(1 for run in results if run["passed"]),
                "failures": sum(1 for run in results if not run["passed"]),
                "section_s": time.monotonic() - flake_started,
                "results": results,
            }
            save()

    report["load_end"] = load_snapshot()
    save()
    say(bench.masker.mask(render(report)))
    return 0
