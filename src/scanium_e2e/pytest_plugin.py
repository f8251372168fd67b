"""The pytest entry point (`pytest11`): inert unless the run is the suite's.

Installed, this module is loaded by every pytest run on the machine. It declares the suite's
options (in their own group, each `--scanium-…`, so they collide with no other plugin's or
conftest's) and imports nothing heavy. Only a run that collects the suite (a path inside it,
or `--pyargs scanium_e2e.suite`) or names one of its options gets the suite's hooks
(`scanium_e2e.suite_plugin`: masking, sentences on summary lines, progress, the verdict);
any other run's output is pytest's own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scanium_e2e.options import FLAG_PREFIX, OPTIONS, add_pytest_options
from scanium_e2e.resources import INSTALLED, suite_dirs
from scanium_e2e.settings import apply_provisioned_runtime

SUITE_PLUGIN = "scanium_e2e.suite_plugin"
SUITE_MODULE = "scanium_e2e.suite"


def pytest_addoption(parser: pytest.Parser) -> None:
    """The suite's options, from the one table of options (options.py); each also has a
    SCANIUM_E2E_* variable (README, "Configuration")."""
    add_pytest_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    """Register the suite's hooks when the run is the suite's (`wanted`)."""
    if wanted(config):
        activate(config)


def activate(config: pytest.Config) -> None:
    """Register the suite's hooks (once), after putting what provisioning recorded for
    Testcontainers into the environment (it reads it once, on import); the suite's conftest
    calls this too, for a run that reaches the suite from a parent folder."""
    if not config.pluginmanager.has_plugin(SUITE_PLUGIN):
        apply_provisioned_runtime()
        config.pluginmanager.import_plugin(SUITE_PLUGIN)


def wanted(config: pytest.Config) -> bool:
    """Whether the run names one of the suite's options or collects the suite."""
    given = [str(arg) for arg in config.invocation_params.args]
    flags = {option.pytest_flag for option in OPTIONS if option.pytest_flag}
    if any(arg.split("=", 1)[0] in flags for arg in given if arg.startswith(FLAG_PREFIX)):
        return True
    root = config.invocation_params.dir
    for arg in config.args:
        if arg.split("::", 1)[0].startswith(SUITE_MODULE):
            return True
        path = (root / arg.split("::", 1)[0]).resolve()
        if any(_overlaps(path, suite) for suite in suite_dirs()):
            return True
    return False


def _overlaps(path: Path, suite: Path, installed: bool = INSTALLED) -> bool:
    """`path` is the suite, inside it, or (in a checkout) a folder that holds it. An
    installed suite lies in site-packages, which pytest never collects from a folder above
    it: a project whose virtualenv sits inside it (`.venv/`) is not running the suite."""
    if path == suite or suite in path.parents:
        return True
    return not installed and path in suite.parents
