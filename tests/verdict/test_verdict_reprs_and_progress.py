"""Short reprs of the big objects (a traceback shows them), progress lines and their
quietness, and `--environment` in external mode as bad input."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from scanium_e2e import progress
from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.errors import EXIT_BAD_INPUT, ConfigurationError
from scanium_e2e.secrets import Masker
from scanium_e2e.settings import REPO_ROOT, Settings
from scanium_e2e.traffic.ledger import Ledger
from scanium_e2e.traffic.run import TrafficRun

KEY = "sk-e2e-0123456789abcdefghijklmn"


def test_settings_repr_is_one_short_line_without_the_key() -> None:
    settings = Settings.from_env(env={}, overrides={"api_key": KEY, "run_id": "run-1"})
    shown = repr(settings)
    assert shown == "Settings(testcontainers, store mimir, run run-1)"
    assert KEY not in shown


def test_run_ledger_and_masker_reprs_are_short() -> None:
    ledger = Ledger(run_id="run-1", provider="openai", base_url="http://b", started_at=0.0)
    run = TrafficRun(ledger=ledger, baseline={}, gate_failure=RuntimeError("cut"))
    assert repr(ledger) == "Ledger(run-1: 0 requests to http://b)"
    assert repr(run) == "TrafficRun(0 requests, no scrape held wave 1)"
    settlement = CountSettlement(run)
    settlement.record("requests", {})
    assert repr(settlement) == "CountSettlement(1 count settled, 0 failed, 0 deviations)"
    assert repr(Masker([KEY])) == "Masker(1 secrets)"


def test_progress_lines_are_written_unless_quiet() -> None:
    written: list[str] = []
    handler = progress.attach(written.append, verbosity=0)
    try:
        progress.phase("backend ready in 1.2 s")
        progress.phase("incident stack: backend ready", main=False)  # beside: debug only
    finally:
        progress.detach(handler)
    progress.phase("after detach")
    assert written == ["scanium-e2e: backend ready in 1.2 s"]
    assert progress.LOGGER.propagate is False


def test_quiet_runs_show_no_progress() -> None:
    written: list[str] = []
    assert progress.attach(written.append, verbosity=progress.QUIET) is None
    progress.phase("backend ready")
    assert written == []
    assert not any(
        isinstance(h, logging.Handler) and h.level == logging.INFO for h in progress.LOGGER.handlers
    )


def test_a_test_double_without_a_stack_counts_as_the_main_one() -> None:
    assert progress.is_main(SimpleNamespace()) is True
    assert progress.is_main(SimpleNamespace(main=False)) is False


EXTERNAL = {
    "SCANIUM_E2E_STACK": "external",
    "SCANIUM_E2E_BACKEND_URL": "http://backend",
    "SCANIUM_E2E_ALLOY_URL": "http://alloy",
    "SCANIUM_E2E_MIMIR_URL": "http://mimir",
    "SCANIUM_E2E_API_KEY": KEY,
}


def test_environment_in_external_mode_is_bad_input() -> None:
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_env(env=EXTERNAL, overrides={"environment": "prod"})
    message = str(raised.value)
    assert message.startswith("--scanium-environment prod (SCANIUM_E2E_ENVIRONMENT) has no effect")
    assert "\n" not in message
    # Not given, or given as the default: external mode runs.
    assert Settings.from_env(env=EXTERNAL).environment == "e2e"
    assert Settings.from_env(env=EXTERNAL, overrides={"environment": "e2e"}).external_mode


def test_the_job_summary_follows_github_unless_a_path_is_given() -> None:
    settings = Settings.from_env(env={"GITHUB_STEP_SUMMARY": "/tmp/step.md"})
    assert str(settings.summary_md) == "/tmp/step.md"
    chosen = Settings.from_env(
        env={"GITHUB_STEP_SUMMARY": "/tmp/step.md", "SCANIUM_E2E_SUMMARY_MD": "/tmp/mine.md"}
    )
    assert str(chosen.summary_md) == "/tmp/mine.md"
    assert Settings.from_env(env={"GITHUB_STEP_SUMMARY": ""}).summary_md is None


E2E = (sys.executable, "-m", "pytest", "e2e/", "-q", "-p", "no:cacheprovider")


def test_pytest_e2e_with_environment_in_external_mode_exits_4() -> None:
    """The real entry point: one paragraph, exit 4 (bad input), no traceback, no stack."""
    result = subprocess.run(
        [*E2E, "--scanium-stack", "external", "--scanium-environment", "prod"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **EXTERNAL, "SCANIUM_E2E_STACK": ""},
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == EXIT_BAD_INPUT, output
    assert (
        "--scanium-environment prod (SCANIUM_E2E_ENVIRONMENT) has no effect in external mode"
        in output
    )
    assert "Traceback" not in output
