"""Wall time of the mutation harness: `pytest e2e/ --mutations` (the suite plus every variant).

    python benchmarks/mutation_harness.py [--workers N] [--json out.json]

Runs the command in a subprocess, as CI does, and prints its wall time (the budget of
issue 15 is 6 minutes on 2 cores), the machine's cores and memory, and from its JUnit the
seconds of each variant's run and its verdict (the properties test_mutations records).
A figure, never an assertion: nothing here fails because it was slow.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 2**20
    return 0.0


def _section(output: str, title: str) -> str:
    """The terminal summary's section `title` (pytest frames it in `=` lines)."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if f" {title} " in line), None)
    if start is None:
        return f"(no {title} section in the output)"
    rest = lines[start + 1 :]
    end = next((i for i, line in enumerate(rest) if line.startswith("=")), len(rest))
    return "\n".join(rest[:end])


def main() -> int:
    """Run the harness once and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=None, help="also write the figures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scanium-bench-mutations-") as folder:
        junit = Path(folder) / "junit.xml"
        began = time.monotonic()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "e2e/",
                "--mutations",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--junitxml={junit}",
                f"--artifacts-dir={Path(folder) / 'artifacts'}",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.monotonic() - began
        rows = []
        failed: list[str] = []
        if junit.exists():
            for case in ET.parse(junit).getroot().iter("testcase"):
                props = {p.get("name"): p.get("value") for p in case.iter("property")}
                if any(True for tag in ("failure", "error") for _ in case.iter(tag)):
                    failed.append(f"{case.get('classname')}::{case.get('name')}")
                if "verdict" in props:
                    rows.append((case.get("name", ""), props["verdict"], props.get("seconds")))
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    print(f"machine: {os.cpu_count()} cores, {_memory_gib():.1f} GiB")
    print(f"`pytest e2e/ --mutations`: exit {result.returncode}, {summary}")
    print(f"wall time: {wall:.1f} s (budget 360 s)")
    for test_id in failed:
        print(f"  FAILED {test_id}")
    for name, verdict, seconds in rows:
        print(f"  {name:<60} {verdict:<18} {seconds} s")
    print(_section(result.stdout, "mutation harness"))
    if args.json:
        data = {"wall_s": round(wall, 1), "exit": result.returncode, "summary": summary}
        data["variants"] = [{"test": n, "verdict": v, "seconds": s} for n, v, s in rows]
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
