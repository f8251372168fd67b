"""pytest options and plugin wiring only; the fixtures live in e2e/conftest.py."""

from __future__ import annotations

import pytest

pytest_plugins = ("scanium_e2e.pytest_plugin",)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Options of the e2e suite; each also has a SCANIUM_E2E_* variable (README)."""
    group = parser.getgroup("scanium-e2e", "Scanium end-to-end verification")
    group.addoption(
        "--stack",
        choices=("testcontainers", "external", "attach"),
        default=None,
        help="start the stack with Testcontainers (default), verify an external deployment, "
        "or attach to a local stack started by another process (SCANIUM_E2E_PROJECT)",
    )
    group.addoption(
        "--store",
        default=None,
        help="the store a started stack runs: mimir (official image) or cortex (built by "
        "scripts/provision.sh where no registry is)",
    )
    group.addoption("--run-id", default=None, help="label that scopes this run's series")
    group.addoption("--provider", default=None, help="LLM provider the backend uses")
    group.addoption(
        "--no-traffic",
        action="store_true",
        default=None,
        help="send no traffic; check only what already flows (external mode)",
    )
    group.addoption(
        "--keep-stack", action="store_true", default=None, help="leave the started stack running"
    )
    group.addoption("--artifacts-dir", default=None, help="where failure artifacts are written")
    group.addoption("--contract", default=None, help="contract file with the expectations")
    group.addoption(
        "--mutations",
        action="store_true",
        default=False,
        help="also run the mutation harness (one stack per broken variant; slow)",
    )
    group.addoption(
        "--fail-on-skip",
        action="store_true",
        default=False,
        help="count a skipped test as failed (CI: a green run must mean the stack ran)",
    )
