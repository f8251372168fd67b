"""Bad input to `pytest e2e/` gives one clear paragraph and a non-zero exit, no traceback.

These run the real pytest entry point in a subprocess; none of them needs Docker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from scanium_e2e.errors import EXIT_BAD_INPUT, EXIT_STACK_FAILED
from scanium_e2e.settings import REPO_ROOT


def run_e2e(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "e2e/", "-q", "-p", "no:cacheprovider", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_contract_with_unknown_field(tmp_path: Path) -> None:
    data = json.loads((REPO_ROOT / "fixtures" / "contract.json").read_text())
    data["metrics"]["tokens"]["lables"] = ["provider"]
    bad = tmp_path / "contract.json"
    bad.write_text(json.dumps(data))
    result = run_e2e("--scanium-contract", str(bad))
    output = result.stdout + result.stderr
    assert result.returncode == EXIT_BAD_INPUT, output
    assert "unknown field `metrics.tokens.lables`" in output
    assert "Traceback" not in output


def test_no_docker_engine() -> None:
    result = run_e2e(env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    output = result.stdout + result.stderr
    assert result.returncode == EXIT_STACK_FAILED, output
    assert "no Docker engine answers" in output
    assert "Traceback" not in output


def test_external_mode_without_urls() -> None:
    result = run_e2e("--scanium-stack", "external", env={"SCANIUM_E2E_BACKEND_URL": ""})
    output = result.stdout + result.stderr
    assert result.returncode == EXIT_BAD_INPUT, output
    assert "external mode needs the URLs" in output
    assert "Traceback" not in output


def test_a_bad_shard_is_a_usage_error_before_anything_runs() -> None:
    done = run_e2e(
        "e2e/test_mutations.py", "--scanium-mutations", "--scanium-shard", "0/3", "--collect-only"
    )
    assert done.returncode == EXIT_BAD_INPUT, done.stdout + done.stderr
    assert "--shard '0/3' is not K/N" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
