"""The time-to-verdict benchmark (`python benchmarks/time_to_verdict.py`), one module a part.

    common       names, formatting of figures, the machine's state, `Bench`
    page_cache   cold start: evict the images' files from the page cache
    memory       peak memory of a stack's containers (section 3)
    verdict      section 1: time to verdict through the library, phase by phase
    pytest_runs  `python -m pytest` in a subprocess (sections 1b, 5 and 6)
    diagnosis    section 2: time to diagnosis of the seed incident
    throughput   section 4: traffic generator throughput
    wal          section 6: Alloy's WAL truncation knob; Alloy's first WAL read
    tables       text tables of the report
    report       the human-readable summary of every section
    cli          arguments and the run of every section

Importing the package makes the library importable from the checkout and sets the
Testcontainers defaults before anything imports Testcontainers.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT / "src") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "src"))

# Testcontainers reads these; the README asks for both on machines like this one.
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
os.environ.setdefault("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
