"""The one table of options (options.py): README's table is generated from it, pytest's
options and Settings follow it, and a flag and its variable parse by the same rule."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from scanium_e2e.errors import ConfigurationError
from scanium_e2e.options import (
    OPTIONS,
    add_pytest_options,
    markdown_table,
    overrides_from,
    values_from_env,
)
from scanium_e2e.pytest_plugin import _overlaps
from scanium_e2e.settings import REPO_ROOT, Settings


def test_readme_s_configuration_table_is_the_generated_one() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- options:[^\n]*-->\n(.*?)\n<!-- /options -->", readme, re.DOTALL)
    assert found, "README has no generated options table (<!-- options: ... /options -->)"
    assert found.group(1) == markdown_table(), (
        "README's configuration table differs from options.py; paste the output of "
        "`python -c 'from scanium_e2e.options import markdown_table; print(markdown_table())'`"
    )


def test_every_option_names_a_settings_field() -> None:
    fields = {*Settings.__dataclass_fields__}
    for option in OPTIONS:
        if option.field:
            assert option.field.partition(".")[0] in fields, option


def test_flags_and_variables_are_unique() -> None:
    flags = [o.flag for o in OPTIONS if o.flag]
    variables = [o.variable for o in OPTIONS if o.variable]
    assert len(flags) == len(set(flags)) and len(variables) == len(set(variables))


def test_pytest_gets_every_flag_under_the_prefix(pytestconfig: pytest.Config) -> None:
    """This very session runs the plugin: each flag of the table is a pytest option, named
    with the `--scanium-` prefix (its name without it belongs to the command-line tools)."""
    for option in OPTIONS:
        if option.flag:
            assert option.pytest_flag == "--scanium-" + option.flag.removeprefix("--")
            pytestconfig.getoption(option.pytest_flag)  # raises ValueError when not declared


class _Parser:
    def __init__(self) -> None:
        self.added: dict[str, dict[str, object]] = {}

    def getgroup(self, *_: str) -> _Parser:
        return self

    def addoption(self, flag: str, **kwargs: object) -> None:
        self.added[flag] = kwargs


def test_declared_options_carry_their_variable_in_the_help() -> None:
    parser = _Parser()
    add_pytest_options(parser)
    assert "[SCANIUM_E2E_DASHBOARDS]" in str(parser.added["--scanium-dashboards"]["help"])
    assert parser.added["--scanium-no-traffic"]["action"] == "store_true"


def test_a_flag_and_its_variable_give_the_same_value(tmp_path: Path) -> None:
    one, two = tmp_path / "a.json", tmp_path / "b"
    given = {"--scanium-dashboards": [str(one), str(two)],
             "--scanium-var": ["env=prod", "env=stage"],
             "--scanium-no-traffic": True, "--scanium-backend-image": "acme/b:1"}  # fmt: skip
    from_flags = overrides_from(lambda flag: given.get(flag))
    from_env = values_from_env(
        {
            "SCANIUM_E2E_DASHBOARDS": f"{one}{os.pathsep}{two}",
            "SCANIUM_E2E_VARS": "env=prod,env=stage",
            "SCANIUM_E2E_NO_TRAFFIC": "true",
            "SCANIUM_E2E_BACKEND_IMAGE": "acme/b:1",
        }
    )
    assert (
        from_flags
        == from_env
        == {
            "dashboards": (one, two),
            "dashboard_vars": {"env": ("prod", "stage")},
            "send_traffic": False,
            "images.backend": "acme/b:1",
        }
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SCANIUM_E2E_DATA_TIMEOUT", "soon", "is not a number"),
        ("SCANIUM_E2E_TRAFFIC_ERRORS", "-1", "is not a whole number"),
        ("SCANIUM_E2E_KEEP_STACK", "maybe", "is not a boolean"),
        ("SCANIUM_E2E_VARS", "no-equals", "is not NAME=VALUE"),
    ],
)
def test_a_bad_variable_is_named(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=f"{variable}.*{message}"):
        values_from_env({variable: value})


def test_the_plugin_is_registered_through_a_pytest11_entry_point() -> None:
    """`pip install` makes the options and hooks part of any pytest run; the entry point's
    name is the module's, so a checkout's conftest naming it too does not register it twice
    (proved in a fresh venv: README, "From your own repository")."""
    import importlib
    import tomllib

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    points = project["project"]["entry-points"]["pytest11"]
    assert points == {"scanium_e2e.pytest_plugin": "scanium_e2e.pytest_plugin"}
    plugin = importlib.import_module(points["scanium_e2e.pytest_plugin"])
    assert callable(plugin.pytest_addoption)


def test_a_folder_holding_the_suite_runs_it_only_in_a_checkout(tmp_path: Path) -> None:
    # Installed, the suite lies in a virtualenv's site-packages: a project holding its
    # `.venv/` is not running the suite (pytest never collects it from there).
    suite = tmp_path / ".venv" / "lib" / "site-packages" / "scanium_e2e" / "_root" / "e2e"
    assert not _overlaps(tmp_path, suite, installed=True)
    assert _overlaps(suite / "test_requests.py", suite, installed=True)
    assert _overlaps(suite, suite, installed=True)
    checkout = tmp_path / "e2e"
    assert _overlaps(tmp_path, checkout, installed=False)
    assert not _overlaps(tmp_path / "tests", checkout, installed=False)
