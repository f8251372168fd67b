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
        "--alloy-config",
        default=None,
        metavar="PATH",
        help="run your own Alloy config unchanged; the suite finds in it the backend's scrape "
        "job and its remote_write and lists the rest as not part of this stack",
    )
    group.addoption(
        "--dashboards",
        nargs="+",
        default=None,
        metavar="PATH",
        help="dashboard JSON files or folders to replay (default: the fixture dashboard); "
        "every panel of every dashboard is its own test",
    )
    group.addoption(
        "--var",
        action="append",
        default=None,
        metavar="NAME=VALUE",
        help="pin a dashboard template variable, like var-NAME=VALUE in a Grafana URL (repeatable)",
    )
    group.addoption(
        "--environment",
        default=None,
        help="the environment label (env, deployment_environment) the test stack's series "
        "carry (default e2e), so dashboards filtering on production names can be checked",
    )
    group.addoption(
        "--backend-image",
        default=None,
        metavar="IMAGE",
        help="your backend image instead of the reference backend (README: 'Your backend "
        "image' lists what it must do)",
    )
    # Alert rules (README, "Alert rules"): judged on the healthy and the incident stack.
    group.addoption(
        "--alert-rules",
        nargs="+",
        default=None,
        metavar="PATH",
        help="alert rule files or folders (Prometheus rule files, evaluated by the store's "
        "ruler, or Grafana alert provisioning); default fixtures/alerts/rules",
    )
    group.addoption(
        "--datasources",
        nargs="+",
        default=None,
        metavar="PATH",
        help="Grafana data source provisioning the rules' datasourceUid resolve through "
        "(default: ours, fixtures/grafana/provisioning/datasources)",
    )
    group.addoption(
        "--alertmanager-config",
        default=None,
        metavar="PATH",
        help="an Alertmanager config: the incident's alert must reach a receiver through it",
    )
    group.addoption(
        "--mutations",
        action="store_true",
        default=False,
        help="also run the mutation harness (one stack per broken variant; slow)",
    )
    group.addoption(
        "--verdict-json",
        default=None,
        metavar="PATH",
        help="also write the verdict (causes, hop ladder, panels, what was proved) as JSON "
        "(SCANIUM_E2E_VERDICT_JSON)",
    )
    group.addoption(
        "--summary-md",
        default=None,
        metavar="PATH",
        help="append the verdict as a Markdown job summary to PATH (default: the file "
        "GITHUB_STEP_SUMMARY names, when set)",
    )
    group.addoption(
        "--fail-on-skip",
        action="store_true",
        default=False,
        help="count a skipped test as failed (CI: a green run must mean the stack ran)",
    )
