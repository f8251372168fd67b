"""Pre-deploy mode, proved: the suite in `--scanium-stack=external` against deployments it did not
start. A healthy one must pass; the seed incident must fail for the right reason.

Each proof is `pytest e2e/ --scanium-stack=external` in a subprocess (external_run.py),
against a stack started with the session's, and running in the background from the moment
those stacks are ready: a healthy stack of its own (so its traffic cannot disturb the
session's exact counts), and the incident stack.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from scanium_e2e.checks.registry import check_of
from scanium_e2e.external_run import ExternalRun
from scanium_e2e.settings import Settings

pytestmark = pytest.mark.late


@pytest.fixture(autouse=True)
def _local_only(settings: Settings) -> None:
    if settings.external_mode:
        pytest.skip("external mode runs no proof of itself: it starts no stack")


def test_external_mode_passes_against_a_healthy_deployment(
    external_runs: dict[str, ExternalRun],
) -> None:
    """Every check that external mode can run passes; the only skips are local-only ones."""
    outcome = external_runs["healthy"].result()
    output = outcome.output
    said = f"external mode against a healthy deployment exited {outcome.code}; its verdict:\n"
    assert outcome.code == 0, said + outcome.verdict()
    suite = ET.parse(outcome.junit).getroot().find("testsuite")
    assert suite is not None, output[-2000:]
    assert int(suite.get("failures", "0")) == 0 and int(suite.get("errors", "0")) == 0
    ran = int(suite.get("tests", "0")) - int(suite.get("skipped", "0"))
    assert ran >= 10, f"only {ran} checks ran in external mode:\n{output[-3000:]}"
    # The only skips: checks that need what a deployment cannot give (checks/registry.py).
    for case in suite.iter("testcase"):
        if case.find("skipped") is None:
            continue
        test_id = f"{case.get('classname')}::{case.get('name')}"
        check = check_of(test_id)
        assert check is not None and check.local_only, test_id


def test_external_mode_catches_the_seed_incident(external_runs: dict[str, ExternalRun]) -> None:
    """Against a deployment with the incident, the run fails and names HTTP 403."""
    outcome = external_runs["incident"].result()
    output = outcome.output
    said = f"external mode against the seed incident exited {outcome.code}, not 1; its verdict:\n"
    assert outcome.code == 1, said + outcome.verdict()
    assert "got HTTP 403" in output, output[-4000:]
    assert "Broken hop: 1. backend /metrics" in output, output[-4000:]
