"""Bad alert input to `pytest e2e/` ends the run with exit 4 before any stack starts: one
paragraph naming the place, no traceback. Runs the real pytest entry point; no Docker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scanium_e2e.errors import EXIT_BAD_INPUT
from scanium_e2e.settings import REPO_ROOT


def run_e2e(*args: str) -> subprocess.CompletedProcess[str]:
    # No Docker engine on purpose: bad input must be named before a stack is asked for.
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "e2e/test_alerts.py",
            "-q",
            "-p",
            "no:cacheprovider",
            *args,
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("bad.yml", "groups:\n  - name: g\n    rules: [\n", "bad.yml:4:1: malformed YAML"),
        (
            "promql.yml",
            "groups:\n  - name: pipeline\n    rules:\n      - alert: A\n        expr: rate(x[5m]\n",
            "group `pipeline`, rule `A`: invalid PromQL",
        ),
        ("other.yml", "scrape_configs: []\n", "is neither a Prometheus rule file"),
    ],
)
def test_bad_alert_rules_exit_4_naming_the_place(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = run_e2e("--scanium-alert-rules", str(path))
    output = result.stdout + result.stderr
    assert result.returncode == EXIT_BAD_INPUT, output
    assert expected in output and "Traceback" not in output
