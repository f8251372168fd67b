"""What a change costs `pytest e2e/`: this checkout against another, run by run.

    python benchmarks/suite_cost.py --baseline /path/to/other/checkout [--runs 5]

Runs `pytest e2e/` in each checkout in turn (baseline, this one, baseline, ...), so load
from outside falls on both alike, and prints each run's seconds (pytest's own figure), its
outcome, and per checkout the min / median / max. A run that fails is printed as such, with
its short summary's lines, and left out of the figures. The baseline is any checkout of
this project, e.g. a worktree of the commit before the change (`git worktree add /tmp/base
<commit>`); each runs its own code (`PYTHONPATH` points at its `src`) against the images
provisioning built.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# pytest's last line: `61 passed, 48 deselected in 17.98s`.
_TALLY = re.compile(r"^(?P<tally>.*?) in (?P<seconds>[0-9.]+)s")


def run_suite(checkout: Path) -> tuple[float, str, bool]:
    """One `pytest e2e/` in `checkout`: pytest's seconds (wall when it printed none), its
    tally (with the short summary's lines when it failed), and whether it passed."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            str(checkout / part) for part in ("src", "fixtures/backend", "fixtures/stub-llm")
        ),
    }
    began = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "e2e/",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
        ],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.monotonic() - began
    last = next(
        (m for line in reversed(done.stdout.splitlines()) if (m := _TALLY.match(line.strip()))),
        None,
    )
    failures = [
        line.strip() for line in done.stdout.splitlines() if line.startswith(("FAILED ", "ERROR "))
    ]
    why = "".join(f"\n    {line[:300]}" for line in failures)
    if last is None:
        return wall, f"exit {done.returncode}{why}", False
    return float(last["seconds"]), last["tally"] + why, done.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="another checkout")
    parser.add_argument("--runs", type=int, default=5, help="runs per checkout")
    args = parser.parse_args()
    if not (args.baseline / "e2e").is_dir():
        print(f"suite_cost: {args.baseline} is no checkout of this project (no e2e/).")
        return 2
    trees = {"baseline": args.baseline.resolve(), "this checkout": ROOT}
    seconds: dict[str, list[float]] = {name: [] for name in trees}
    for run in range(1, args.runs + 1):
        for name, tree in trees.items():
            took, tally, passed = run_suite(tree)
            print(f"run {run} {name}: {took:.1f} s ({tally}){'' if passed else ' FAILED'}")
            if passed:
                seconds[name].append(took)
    for name, figures in seconds.items():
        if figures:
            print(
                f"{name} ({trees[name]}): {len(figures)} passing runs, min {min(figures):.1f} s, "
                f"median {statistics.median(figures):.1f} s, max {max(figures):.1f} s"
            )
        else:
            print(f"{name} ({trees[name]}): no passing run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
