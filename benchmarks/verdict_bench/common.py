"""What every section shares: names, figures' formatting, the machine's state, `Bench`."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import platform
import secrets
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.verdict_bench import REPO_ROOT
from scanium_e2e.checks.expectations import COUNT_ROLES
from scanium_e2e.contract import Contract
from scanium_e2e.secrets import Masker
from scanium_e2e.settings import Settings

PROJECT = "scanium-e2e-bench"
# The seed's manual procedure: ~60 s of traffic, then a 90 s wait.
SEED_MANUAL_S = 150.0
ROLES = COUNT_ROLES


def now_utc() -> str:
    """ISO time, seconds resolution, UTC."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def new_run_id(tag: str) -> str:
    """A fresh run id (own series in Mimir) for one measured run."""
    return f"run-bench-{tag}-{secrets.token_hex(3)}"


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile; nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def fmt_s(value: object) -> str:
    """`12.3 s`, or `-` for a missing figure."""
    if isinstance(value, int | float) and not math.isnan(float(value)):
        return f"{float(value):.1f} s"
    return "-"


def docker_text(*args: str) -> str:
    """The stripped stdout of a docker CLI call; empty when it fails (figures, not checks)."""
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=30, check=False
    ).stdout.strip()


def load_snapshot() -> dict[str, Any]:
    """What else runs on the machine right now: load average and foreign containers."""
    names = docker_text("ps", "--format", "{{.Names}}").split()
    foreign = [name for name in names if not name.startswith(PROJECT)]
    return {
        "at": now_utc(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "foreign_containers": len(foreign),
        "foreign_projects": sorted({name.rsplit("-", 2)[0] for name in foreign}),
    }


def git_revision() -> str:
    """The commit the suite runs at, `+dirty` when the work tree has changes.

    Others commit on this machine while a long benchmark runs: each pytest run records it.
    """

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return commit + ("+dirty" if dirty else "")


def say(text: str = "") -> None:
    """Progress on stdout, flushed (the full run goes to a log under nohup)."""
    print(text, flush=True)


def machine() -> dict[str, Any]:
    """Where the figures come from."""
    docker_version = docker_text("version", "--format", "{{.Server.Version}}")
    mem_kib = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return {
        "date": now_utc(),
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "docker": docker_version,
        "git": git_revision(),
    }


@dataclasses.dataclass
class Bench:
    """What every section shares."""

    settings: Settings
    contract: Contract
    masker: Masker

    def variant(self, suffix: str, tag: str) -> Settings:
        """Settings of one measured stack: own project and run id."""
        return dataclasses.replace(
            self.settings, project_name=f"{PROJECT}-{suffix}", run_id=new_run_id(tag)
        )
