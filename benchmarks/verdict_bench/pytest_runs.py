"""`python -m pytest` in a subprocess: wall time, result, slowest tests (sections 1b, 5, 6)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.verdict_bench import REPO_ROOT
from benchmarks.verdict_bench.common import git_revision
from scanium_e2e.secrets import Masker

TAIL_LINES = 60


def run_pytest(
    args: Sequence[str],
    *,
    project: str | None,
    timeout_s: float,
    junit: Path | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """`python -m pytest <args>` from the repo root; wall time, exit code, summary line."""
    env = {**os.environ, **(extra_env or {})}
    artifacts = Path(tempfile.mkdtemp(prefix="scanium-e2e-bench-artifacts-"))
    if project:
        # Own compose project (variant stacks derive theirs from it): never another's.
        env["SCANIUM_E2E_PROJECT"] = project
    env["SCANIUM_E2E_ARTIFACTS_DIR"] = str(artifacts)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    command = [sys.executable, "-m", "pytest", *args]
    revision = git_revision()
    if junit is not None:
        command.append(f"--junitxml={junit}")
    started = time.monotonic()
    try:
        done = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        code: int | None = done.returncode
        output = done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        code = None
        raw = exc.stdout or ""
        output = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
        output += f"\n(timed out after {timeout_s:g}s)"
    wall = time.monotonic() - started
    # The suite masks its own secrets; mask key shapes again before anything is kept.
    output = Masker().mask(output)
    lines = output.rstrip().splitlines()
    summary = next(
        (
            line.strip("= ").strip()
            for line in reversed(lines)
            if re.search(r"\b(passed|failed|error|errors|skipped|no tests ran)\b", line)
        ),
        "",
    )
    result: dict[str, Any] = {
        "command": " ".join(["python", "-m", "pytest", *args]),
        "git": revision,
        "wall_s": wall,
        "exit_code": code,
        "passed": code == 0,
        "summary": summary,
    }
    if code != 0:
        result["tail"] = "\n".join(lines[-TAIL_LINES:])
        result["artifacts_dir"] = str(artifacts)
    else:
        shutil.rmtree(artifacts, ignore_errors=True)
    return result


def slowest_tests(junit: Path, count: int = 6) -> list[dict[str, Any]]:
    """The slowest test cases of a JUnit report (setup, call and teardown included)."""
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):
        return []
    cases = sorted(
        (
            (float(case.get("time") or 0.0), f"{case.get('classname', '')}::{case.get('name', '')}")
            for case in root.iter("testcase")
        ),
        reverse=True,
    )
    return [{"test": name, "s": seconds} for seconds, name in cases[:count]]
