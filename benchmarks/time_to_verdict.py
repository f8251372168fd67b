"""Time-to-verdict benchmark of the e2e suite, beside the seed's manual procedure.

    python benchmarks/time_to_verdict.py [--flake-runs N] [--skip-flake] [--json out.json]

Sections (docs/performance.md holds the figures of a full run and how to read them):

1. time to verdict through the library, phase by phase (stack start, first green, traffic
   and its two waves, the five count checks), "cold" then "warm"; plus the wall time of
   `pytest e2e/` and `pytest tests/` in subprocesses;
2. time to diagnosis of the seed incident (a stack without /metrics in the exempt list);
3. peak memory of the stack's containers during a full run;
4. traffic generator throughput at 1, 10 and 100 clients, with exact accounting in Mimir;
5. flake check: the whole e2e suite N times in a row;
6. what the test stack's Alloy WAL truncation (every 1 s) saves: the same run, and the
   whole suite, with Alloy's default of 2h (as production), where Alloy v1.0 sends what
   it scraped only every 15 s.

The seed's procedure by hand (docs: openai-runtime-dashboard-fix.md) is traffic for about
60 s, then a 90 s wait: ~150 s to a verdict that checks presence, not exact counts.

Every stack runs under its own compose project (`scanium-e2e-bench*`), so the benchmark
never touches other stacks on the machine. Nothing here prints the run's API key: settings
are never printed, and text from a stack or a subprocess goes through a Masker.

The code lives in the package `benchmarks/verdict_bench/` (one module per part); this file
is the command.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.verdict_bench.cli import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
