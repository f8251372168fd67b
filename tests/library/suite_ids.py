"""The suite's test ids as JUnit names them (`e2e.test_x::test_y[param]`), collected by
pytest itself in a subprocess (no stack starts at collection)."""

from __future__ import annotations

import subprocess
import sys
from functools import cache

from scanium_e2e.settings import REPO_ROOT


@cache
def collected_ids(*args: str) -> frozenset[str]:
    """The ids `pytest --collect-only` prints for `args` (paths and options), once."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    ids = set()
    for line in done.stdout.splitlines():
        path, sep, name = line.partition(".py::")
        if sep:
            ids.add(f"{path.replace('/', '.')}::{name}")
    assert ids, done.stdout[-2000:] + done.stderr[-2000:]
    return frozenset(ids)
