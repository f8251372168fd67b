"""What judging the alert rules adds to `pytest e2e/`.

    python benchmarks/alerts_cost.py [--runs 3] [--out FILE] [-- extra pytest args]

Each round runs `pytest e2e/` twice, interleaved so both see the same load: as the README
runs it (the alert rules judged on the healthy and the incident stack), and with
`--ignore=e2e/test_alerts.py` (no rule loaded, nothing judged). It prints min / median /
max wall seconds of both and the difference of medians: the figure issue 23 bounds at 3 s.
On a machine other work loads, that difference is noisy; so it also prints what the session's
own thread spent on the alert rules (loading them, the healthy judgement, waiting for the
incident's background judgement), read from each run's alerts.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 3.0


def run_once(extra: list[str], artifacts: Path) -> tuple[float, int, str]:
    """One `pytest e2e/` in a subprocess: wall seconds, exit code, its last line."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}
    command = [
        sys.executable, "-m", "pytest", "e2e/", "-q", "-p", "no:cacheprovider",
        f"--artifacts-dir={artifacts}", *extra,
    ]  # fmt: skip
    began = time.monotonic()
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    seconds = time.monotonic() - began
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return seconds, done.returncode, lines[-1] if lines else done.stderr[-300:]


def summary(name: str, values: list[float]) -> str:
    """`name: min / median / max`."""
    return (
        f"{name:<28} min {min(values):6.2f} s   median {statistics.median(values):6.2f} s   "
        f"max {max(values):6.2f} s"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print the figure; exit 1 when a run failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("extra", nargs="*", help="more pytest arguments (after --)")
    args = parser.parse_args(argv)
    with_rules: list[float] = []
    without: list[float] = []
    on_path: list[float] = []
    lines: list[str] = []
    failed = False
    for round_ in range(1, args.runs + 1):
        for label, extra, bucket in (
            ("with alert rules", list(args.extra), with_rules),
            ("without", ["--ignore=e2e/test_alerts.py", *args.extra], without),
        ):
            with tempfile.TemporaryDirectory() as folder:
                seconds, code, last = run_once(extra, Path(folder))
                spent = [
                    sum(json.loads(p.read_text()).get("timings", {}).values())
                    for p in Path(folder).glob("*/alerts.json")
                ]
            on_path.extend(spent)
            bucket.append(seconds)
            failed = failed or code != 0
            line = f"round {round_} {label:<17} {seconds:6.2f} s  exit {code}  {last}"
            print(line, flush=True)
            lines.append(line)
    added = statistics.median(with_rules) - statistics.median(without)
    report = [
        *lines,
        "",
        summary("pytest e2e/ (alert rules)", with_rules),
        summary("pytest e2e/ (without)", without),
        f"judging the alert rules adds {added:+.2f} s (median; budget {BUDGET_S:g} s): "
        + ("within budget" if added <= BUDGET_S else "OVER BUDGET"),
        "the session's own thread on the alert rules (load + healthy + incident wait): "
        + (summary("", on_path).strip() if on_path else "not measured"),
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end",
    ]
    print("\n".join(report[len(lines) :]))
    if args.out is not None:
        args.out.write_text("\n".join(report) + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
