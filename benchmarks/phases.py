"""Phase benchmark: where `pytest e2e/` spends its time, against the targets, beside a baseline.

    python benchmarks/phases.py [--runs 5] [--baseline REF] [--skip-pytest] [--out FILE]

For this checkout and for a baseline commit (default: the newest tag before HEAD, else
HEAD~1), checked out in a temporary git worktree, each of `--runs` rounds measures, in
turn for the baseline and for this checkout (interleaved, so both see the same load):

1. one stack, phase by phase (benchmarks/phases_worker.py in a subprocess that imports
   the checkout's own library): compose up -> ready -> traffic sent -> every exact count
   green, and teardown; when Alloy's first scrape began; the stack's peak memory
   (benchmarks/verdict_bench/memory.py, sampled every 0.5 s);
2. the seed incident: stack ready -> `up == 1` fails naming HTTP 403;
3. `pytest e2e/` as the README runs it, wall time and result.

It prints min/median/max per phase for both, the ratio of medians (this machine is noisy:
the ratio is the figure to trust), and each target of issue 14 met or missed; for a
missed one, the measured floor of the phase that holds it. `--out` also writes the
printout (benchmarks/results/ holds the committed ones).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.verdict_bench.common import load_snapshot, machine  # noqa: E402
from benchmarks.verdict_bench.memory import MemorySampler  # noqa: E402

WORKER = Path(__file__).resolve().parent / "phases_worker.py"
ENV_FILE = ".scanium-e2e.env"

# (key, label) of every phase, in report order.
PHASES = (
    ("ready_s", "compose up -> stack ready"),
    ("traffic_s", "ready -> traffic sent (both waves)"),
    ("counts_s", "traffic sent -> every exact count green"),
    ("up_to_counts_s", "compose up -> every exact count green"),
    ("teardown_s", "teardown (compose down)"),
    ("first_scrape_after_alloy_start_s", "Alloy's scrape component start -> first scrape"),
    ("first_scrape_after_ready_s", "stack ready -> Alloy's first scrape"),
    ("diagnosis_s", "incident: stack ready -> HTTP 403 named"),
    ("memory_peak_mib", "peak memory of one stack (MiB)"),
    ("pytest_e2e_s", "`pytest e2e/` wall"),
)

# (key, limit, what) of issue 14's targets.
TARGETS = (
    ("pytest_e2e_s", 15.0, "`pytest e2e/` median <= 15 s"),
    ("up_to_counts_s", 8.0, "compose up -> every exact count green <= 8 s"),
    ("diagnosis_s", 2.0, "seed incident named <= 2 s after the stack is ready"),
    ("memory_peak_mib", 200.0, "peak stack memory <= 200 MiB"),
)


def git(*args: str, cwd: Path = REPO_ROOT) -> str:
    """stdout of a git command (stripped); raises on failure."""
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def default_baseline() -> str:
    """The newest tag before HEAD, else HEAD~1."""
    try:
        return git("describe", "--tags", "--abbrev=0", "HEAD~1")
    except subprocess.CalledProcessError:
        return "HEAD~1"


def run_worker(tree: Path, mode: str, project: str, sample: bool) -> dict[str, Any]:
    """One worker run against `tree`'s library; its JSON, plus peak memory when sampled."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    sampler = MemorySampler(project) if sample else None
    with sampler or contextlib.nullcontext():
        done = subprocess.run(
            [sys.executable, str(WORKER), mode, project],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    result: dict[str, Any] = (
        json.loads(lines[-1])
        if lines
        else {"ok": False, "error": (done.stdout + done.stderr)[-1500:]}
    )
    if sampler is not None:
        result["memory_peak_mib"] = sampler.report()["peak_total_mib"]
    return result


def run_pytest_e2e(tree: Path, project: str) -> dict[str, Any]:
    """`python -m pytest e2e/ -q` in `tree`: wall seconds, exit code, summary line."""
    env = {**os.environ, "SCANIUM_E2E_PROJECT": project, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "e2e/", "-q", "-p", "no:cacheprovider"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    wall = time.monotonic() - began
    summary = next(
        (line for line in reversed(done.stdout.splitlines()) if " in " in line and "=" not in line),
        done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "",
    )
    return {"pytest_e2e_s": wall, "ok": done.returncode == 0, "summary": summary}


def figures(runs: Sequence[dict[str, Any]], key: str) -> list[float]:
    """The values of `key` over the runs that measured it."""
    return [float(run[key]) for run in runs if isinstance(run.get(key), int | float)]


def spread(values: Sequence[float]) -> str:
    """`min / median / max` or `-`."""
    if not values:
        return "-"
    return f"{min(values):6.2f} / {statistics.median(values):6.2f} / {max(values):6.2f}"


def render(report: dict[str, Any]) -> str:
    """The printout: phases for both checkouts, ratio, targets, floors."""
    current, baseline = report["runs"]["current"], report["runs"]["baseline"]
    lines = [
        f"# Phase benchmark ({report['machine']['date']})",
        f"machine: {report['machine']['cpus']} cpus, {report['machine']['memory_gib']} GiB, "
        f"docker {report['machine']['docker']}, python {report['machine']['python']}",
        f"command: {report['command']}",
        f"current: {report['current']}   baseline: {report['baseline']}   "
        f"rounds: {report['rounds']} (interleaved)   wall: {report['wall_s']:.0f} s",
        f"load (1 min) before / after: {report['load_start']['loadavg_1m']} / "
        f"{report['load_end']['loadavg_1m']}",
        "",
        f"{'phase':<52} {'current min / median / max':>28} {'baseline min / median / max':>28}"
        f" {'ratio':>6}",
    ]
    for key, label in PHASES:
        now, before = figures(current, key), figures(baseline, key)
        ratio = (
            f"{statistics.median(now) / statistics.median(before):6.2f}"
            if now and before and statistics.median(before)
            else "     -"
        )
        lines.append(f"{label:<52} {spread(now):>28} {spread(before):>28} {ratio}")
    failures = [
        f"{side} round {run.get('round')} {run.get('part')}: "
        + str(run.get("error") or run.get("summary"))
        for side in ("current", "baseline")
        for run in report["runs"][side]
        if not run.get("ok")
    ]
    lines += ["", "runs not ok: " + (str(len(failures)) if failures else "none")]
    lines += [f"  {failure[:300]}" for failure in failures]
    lines += ["", "targets (current, median):"]
    held = False
    floor = figures(current, "first_scrape_after_alloy_start_s")
    floor_ready = figures(current, "first_scrape_after_ready_s")
    for key, limit, what in TARGETS:
        values = figures(current, key)
        if not values:
            lines.append(f"  ? {what}: not measured")
            continue
        median = statistics.median(values)
        verdict = "met" if median <= limit else "MISSED"
        lines.append(f"  {verdict:6} {what}: {median:.2f}")
        if median > limit and key in ("diagnosis_s", "up_to_counts_s", "pytest_e2e_s"):
            held = True
    if held and floor:
        lines.append("  what holds the missed ones: every verdict needs Alloy's first scrape.")
        lines.append(
            "    Alloy v1.0's first scrape comes "
            f"{statistics.median(floor):.2f} s (median; min {min(floor):.2f}) after its "
            "scrape component starts, "
            f"{statistics.median(floor_ready):.2f} s after the stack is ready: its "
            "Prometheus scrape manager creates scrape pools only on a reload tick, at "
            "least 5 s apart (scrape/manager.go, reloader: DiscoveryReloadInterval below "
            "5s is raised to 5s), then waits the target's offset within the 1 s interval. "
            "Every verdict needs that first scrape."
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--baseline", default=None, help="commit or tag to compare with")
    parser.add_argument("--skip-pytest", action="store_true", help="no `pytest e2e/` runs")
    parser.add_argument("--out", type=Path, default=None, help="also write the printout here")
    args = parser.parse_args(argv)
    if not (REPO_ROOT / ENV_FILE).exists():
        print(f"phases: {ENV_FILE} is missing: run scripts/provision.sh first", file=sys.stderr)
        return 2
    baseline_ref = args.baseline or default_baseline()
    try:
        baseline_commit = git("rev-parse", "--short", f"{baseline_ref}^{{commit}}")
    except subprocess.CalledProcessError:
        print(f"phases: no commit {baseline_ref!r} in this repository", file=sys.stderr)
        return 2
    began = time.monotonic()
    report: dict[str, Any] = {
        "machine": machine(),
        "command": "python benchmarks/phases.py " + " ".join(argv or sys.argv[1:]),
        "current": git("rev-parse", "--short", "HEAD")
        + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else ""),
        "baseline": f"{baseline_ref} ({baseline_commit})",
        "rounds": args.runs,
        "load_start": load_snapshot(),
        "runs": {"current": [], "baseline": []},
    }
    workdir = Path(tempfile.mkdtemp(prefix="scanium-e2e-phases-"))
    baseline_tree = workdir / "baseline"
    git("worktree", "add", "--detach", str(baseline_tree), baseline_commit)
    try:
        shutil.copy(REPO_ROOT / ENV_FILE, baseline_tree / ENV_FILE)
        trees = {"baseline": baseline_tree, "current": REPO_ROOT}
        for round_ in range(1, args.runs + 1):
            for side, tree in trees.items():
                project = f"scanium-e2e-phases-{side}"
                parts: list[tuple[str, Callable[[], dict[str, Any]]]] = [
                    ("verdict", partial(run_worker, tree, "verdict", project, True)),
                    ("diagnosis", partial(run_worker, tree, "diagnosis", project, False)),
                ]
                if not args.skip_pytest:
                    parts.append(("pytest", partial(run_pytest_e2e, tree, project)))
                for part, measure in parts:
                    result = {"round": round_, "part": part, **measure()}
                    report["runs"][side].append(result)
                    shown = {k: round(v, 2) for k, v in result.items() if isinstance(v, float)}
                    print(
                        f"round {round_} {side:8} {part:9} ok={result.get('ok')} {shown}",
                        flush=True,
                    )
    finally:
        git("worktree", "remove", "--force", str(baseline_tree))
        shutil.rmtree(workdir, ignore_errors=True)
    report["load_end"] = load_snapshot()
    report["wall_s"] = time.monotonic() - began
    text = render(report)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
        args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
