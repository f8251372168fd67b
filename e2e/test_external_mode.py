"""Pre-deploy mode, proved: the suite in `--stack=external` against deployments it did not
start. A healthy one must pass; the seed incident must fail for the right reason.

Each proof runs `pytest e2e/ --stack=external` in a subprocess: against the session's
healthy stack (this module runs last, so its extra traffic cannot disturb the exact counts
of other tests), and against the incident stack.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from scanium_e2e.settings import REPO_ROOT, Settings
from scanium_e2e.stack import Stack
from scanium_e2e.stack.compose import ComposeStack
from scanium_e2e.stack.external import external_environment

pytestmark = pytest.mark.late

# Skips a healthy external run may have: what only a local stack allows.
LOCAL_ONLY_SKIPS = (
    "logs are not reachable",
    "started locally",
    "external mode starts nothing",
    "needs the stub LLM",
    "external mode runs no proof",
)


@pytest.fixture(autouse=True)
def _local_only(settings: Settings) -> None:
    if settings.external_mode:
        pytest.skip("external mode runs no proof of itself: it starts no stack")


def run_external(
    stack: Stack, settings: Settings, tmp_path: Path, *args: str
) -> tuple[int, str, Path]:
    """`pytest e2e/ --stack=external` against `stack`; returns exit code, output, JUnit."""
    junit = tmp_path / "junit.xml"
    env = {
        **os.environ,
        **external_environment(
            stack.endpoints, api_key=settings.api_key, run_id=settings.run_id + "-external"
        ),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "e2e/",
            "--stack=external",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit}",
            f"--artifacts-dir={tmp_path / 'artifacts'}",
            *args,
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr, junit


def test_external_mode_passes_against_a_healthy_deployment(
    settings: Settings, stack: Stack, tmp_path: Path
) -> None:
    """Every check that external mode can run passes; the only skips are local-only ones."""
    code, output, junit = run_external(stack, settings, tmp_path)
    assert code == 0, output[-4000:]
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None, output[-2000:]
    assert int(suite.get("failures", "0")) == 0 and int(suite.get("errors", "0")) == 0
    ran = int(suite.get("tests", "0")) - int(suite.get("skipped", "0"))
    assert ran >= 10, f"only {ran} checks ran in external mode:\n{output[-3000:]}"
    for case in suite.iter("skipped"):
        reason = case.get("message", "")
        assert any(allowed in reason for allowed in LOCAL_ONLY_SKIPS), reason


def test_external_mode_catches_the_seed_incident(
    incident_stack: ComposeStack, tmp_path: Path
) -> None:
    """Against a deployment with the incident, the run fails and names HTTP 403."""
    code, output, _ = run_external(
        incident_stack, incident_stack.settings, tmp_path, "-x", "e2e/test_scrape_health.py"
    )
    assert code == 1, output[-4000:]
    assert "got HTTP 403" in output, output[-4000:]
    assert "Broken hop: 1. backend /metrics" in output, output[-4000:]
