"""Every option of a run, declared once: its Settings field, its SCANIUM_E2E_* variable,
its pytest flag, its type, its default as README states it, and its help.

From this one table come the pytest options (`add_pytest_options`), what the pytest
command line overrides (`overrides_from`), what the environment sets (`values_from_env`,
used by `Settings.from_env`), and README's configuration table (`markdown_table`; a unit
test fails when README disagrees). Values are parsed by one rule per type, whether they
come from a flag or a variable.

One name per option: `--alert-rules` on the command-line tools, `--scanium-alert-rules` in
pytest (every pytest option carries the `--scanium-` prefix, in its own group, so that no
other plugin's or conftest's option can collide with it), `SCANIUM_E2E_ALERT_RULES` in the
environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from scanium_e2e.errors import ConfigurationError

ENV_PREFIX = "SCANIUM_E2E_"
# Every pytest flag of the suite starts with it (`scanium_flag`).
FLAG_PREFIX = "--scanium-"


def scanium_flag(name: str) -> str:
    """The pytest flag of an option named as the command-line tools name it:
    `--alert-rules` -> `--scanium-alert-rules` (not `pytest_…`: pluggy would take a module
    name of that shape, imported into a plugin, for a hook)."""
    return FLAG_PREFIX + name.removeprefix("--")


Type = Literal["text", "path", "paths", "switch", "seconds", "count", "pins"]


@dataclass(frozen=True)
class Option:
    """One option. `field` is the Settings field it sets (dotted for a nested one,
    `images.alloy`); empty for options of the pytest session only (`--mutations`)."""

    field: str
    variable: str | None
    flag: str | None
    type: Type
    default: str
    help: str
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    # A switch whose flag turns the field off (`--no-traffic` sets send_traffic False).
    inverted: bool = False

    @property
    def env_name(self) -> str:
        """`SCANIUM_E2E_<VARIABLE>` (empty for a flag-only option)."""
        return ENV_PREFIX + self.variable if self.variable else ""

    @property
    def pytest_flag(self) -> str | None:
        """The option's pytest flag (`--scanium-…`), None without a flag."""
        return scanium_flag(self.flag) if self.flag else None

    @property
    def dest(self) -> str:
        """The pytest option's attribute name."""
        return (self.pytest_flag or "").lstrip("-").replace("-", "_")


def _flag_help(option: Option) -> str:
    return f"{option.help} [{option.env_name}]" if option.variable else option.help


OPTIONS: tuple[Option, ...] = (
    Option("stack_mode", "STACK", "--stack", "text", "`testcontainers` (or `external`, or "
           "`attach` with `SCANIUM_E2E_PROJECT`: a local stack another process started, as "
           "the mutation harness does)",
           "start the stack with Testcontainers (default), verify an external deployment, or "
           "attach to a local stack started by another process (SCANIUM_E2E_PROJECT)",
           choices=("testcontainers", "external", "attach")),
    Option("store", "STORE", "--store", "text",
           "`mimir` (official image); `cortex` after `scripts/provision.sh`",
           "the store a started stack runs: mimir (official image) or cortex (built by "
           "scripts/provision.sh where no registry is)"),
    Option("run_id", "RUN_ID", "--run-id", "text", "random `run-xxxxxxxx`",
           "label that scopes this run's series"),
    Option("provider", "PROVIDER", "--provider", "text", "`openai` (or `claude`)",
           "LLM provider the backend uses"),
    Option("contract_file", "CONTRACT", "--contract", "path", "`fixtures/contract.json`",
           "contract file with the expectations"),
    Option("alloy_config", "ALLOY_CONFIG", "--alloy-config", "path",
           "ours, `fixtures/alloy/config.alloy`",
           "run your own Alloy config unchanged; the suite finds in it the backend's scrape "
           "job and its remote_write and lists the rest as not part of this stack",
           metavar="PATH"),
    Option("dashboards", "DASHBOARDS", "--dashboards", "paths",
           "`fixtures/grafana/dashboards/openai-runtime.json`",
           "dashboard JSON files or folders to replay (default: the fixture dashboard); every "
           "panel of every dashboard is its own test", metavar="PATH"),
    Option("dashboard_vars", "VARS", "--var", "pins",
           "none (each variable's saved value, as Grafana)",
           "pin a dashboard template variable, like var-NAME=VALUE in a Grafana URL "
           "(repeatable; the variable separates pins with commas)", metavar="NAME=VALUE"),
    Option("environment", "ENVIRONMENT", "--environment", "text", "`e2e`",
           "the environment label (env, deployment_environment) the test stack's series carry "
           "(default e2e), so dashboards filtering on production names can be checked"),
    Option("alert_rules", "ALERT_RULES", "--alert-rules", "paths",
           "`fixtures/alerts/rules/` (both formats; judged only on stacks running our Alloy "
           "config)",
           "alert rule files or folders (Prometheus rule files, evaluated by the store's ruler, "
           "or Grafana alert provisioning); default fixtures/alerts/rules", metavar="PATH"),
    Option("datasources", "DATASOURCES", "--datasources", "paths",
           "ours, `fixtures/grafana/provisioning/datasources/`",
           "Grafana data source provisioning the rules' datasourceUid resolve through (default: "
           "ours, fixtures/grafana/provisioning/datasources)", metavar="PATH"),
    Option("alertmanager_config", "ALERTMANAGER_CONFIG", "--alertmanager-config", "path",
           "none (routing not proved; CI passes `fixtures/alerts/alertmanager.yml`)",
           "an Alertmanager config: the incident's alert must reach a receiver through it",
           metavar="PATH"),
    Option("images.backend", "BACKEND_IMAGE", "--backend-image", "text",
           "`scanium-e2e/backend:dev` (the reference backend)",
           "your backend image instead of the reference backend (README: 'Your backend image' "
           "lists what it must do)", metavar="IMAGE"),
    Option("artifacts_dir", "ARTIFACTS_DIR", "--artifacts-dir", "path", "`e2e-artifacts/`",
           "where failure artifacts are written"),
    Option("keep_stack", "KEEP_STACK", "--keep-stack", "switch", "off",
           "leave the started stack running"),
    Option("send_traffic", "NO_TRAFFIC", "--no-traffic", "switch", "off",
           "send no traffic; check only what already flows (external mode)", inverted=True),
    Option("verdict_json", "VERDICT_JSON", "--verdict-json", "path", "none",
           "also write the verdict (causes, hop ladder, panels, what was proved) as JSON",
           metavar="PATH"),
    Option("summary_md", "SUMMARY_MD", "--summary-md", "path",
           "the file `GITHUB_STEP_SUMMARY` names, when set",
           "append the verdict as a Markdown job summary to PATH (default: the file "
           "GITHUB_STEP_SUMMARY names, when set)", metavar="PATH"),
    Option("", None, "--mutations", "switch", "off",
           "also run the mutation harness (one stack per broken variant; slow)"),
    Option("", None, "--shard", "text", "all variants",
           "with --scanium-mutations, run only the K-th of N deterministic shares of the mutation "
           "variants (a CI matrix spreads the harness over N runners)", metavar="K/N"),
    Option("", None, "--fail-on-skip", "switch",
           "off (CI sets it: a green run must mean the stack ran)",
           "count a skipped test as failed (CI: a green run must mean the stack ran)"),
    Option("project_name", "PROJECT", None, "text", "`scanium-e2e-<run id>`",
           "the compose project of the stack (`--scanium-stack=attach`: the one to attach to)"),
    Option("images.mimir", "MIMIR_IMAGE", None, "text", "`grafana/mimir:2.12.0`",
           "the Mimir image (the store setting picks the Mimir or the Cortex image)"),
    Option("images.cortex", "CORTEX_IMAGE", None, "text", "`scanium-e2e/cortex:v1.21.1`",
           "the Cortex image (built by scripts/provision.sh)"),
    Option("images.alloy", "ALLOY_IMAGE", None, "text", "`grafana/alloy:v1.0.0`",
           "the Alloy image"),
    Option("images.stub_llm", "STUB_IMAGE", None, "text", "`scanium-e2e/stub-llm:dev`",
           "the stub LLM image"),
    Option("external.backend_url", "BACKEND_URL", None, "text", "none (external mode needs it)",
           "the deployment's backend URL"),
    Option("external.alloy_url", "ALLOY_URL", None, "text", "none (external mode needs it)",
           "the deployment's Alloy URL"),
    Option("external.mimir_url", "MIMIR_URL", None, "text", "none (external mode needs it)",
           "the deployment's store URL"),
    Option("mimir_prefix", "MIMIR_PREFIX", None, "text", "`/prometheus`",
           "the store's Prometheus API prefix"),
    Option("tenant", "TENANT", None, "text", "none (`X-Scope-OrgID`)", "the store's tenant"),
    Option("scrape_interval_s", "SCRAPE_INTERVAL", None, "seconds", "`1`",
           "Alloy's scrape interval in the test stack (s)"),
    Option("otlp_export_interval_s", "OTLP_EXPORT_INTERVAL", None, "seconds", "`1`",
           "how often the backend exports its OTLP metrics (s): a started stack sets it "
           "(`OTEL_METRIC_EXPORT_INTERVAL`); against a deployment give its own (Scanium: 30)"),
    Option("ready_timeout_s", "READY_TIMEOUT", None, "seconds", "`120`",
           "how long services may take to become ready (s)"),
    Option("data_timeout_s", "DATA_TIMEOUT", None, "seconds", "`60`",
           "how long data may take to reach the store (s)"),
    Option("traffic_successes", "TRAFFIC_SUCCESSES", None, "count", "`8`",
           "successful chat requests a run sends"),
    Option("traffic_errors", "TRAFFIC_ERRORS", None, "count",
           "`2` (at least one per fault kind of the contract)", "failed LLM calls a run injects"),
    Option("api_key", "API_KEY", None, "text", "a fresh key per run (or `_FILE`)",
           "the backend's API key (`SCANIUM_E2E_API_KEY_FILE`: read from a file)"),
    Option("bearer_token", "BEARER_TOKEN", None, "text", "none (or `_FILE`)",
           "a bearer token the backend wants (`SCANIUM_E2E_BEARER_TOKEN_FILE`: from a file)"),
)  # fmt: skip
# Read from the environment by other means: secrets (NAME or NAME_FILE).
SECRETS = ("api_key", "bearer_token")


def _switch(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ConfigurationError(
        f"{name}={value!r} is not a boolean: use true/false, 1/0, yes/no or on/off."
    )


def _seconds(value: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigurationError(f"{name}={value!r} is not a number.") from None
    if number <= 0:
        raise ConfigurationError(f"{name}={value!r} must be positive.")
    return number


def _count(value: str, name: str) -> int:
    if not value.strip().isdigit():
        raise ConfigurationError(f"{name}={value!r} is not a whole number.")
    return int(value)


def parse_var_pins(pins: Sequence[str], where: str = "--var") -> dict[str, tuple[str, ...]]:
    """`NAME=VALUE` pins of dashboard template variables, like `var-NAME=VALUE` in a Grafana
    URL: a name given twice selects both values. A bad pin is an error naming it. The one
    rule for `--var` (pytest and `scanium-e2e dashboards`) and SCANIUM_E2E_VARS."""
    pinned: dict[str, tuple[str, ...]] = {}
    for pin in pins:
        name, sep, value = pin.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ConfigurationError(
                f"{where}: {pin!r} is not NAME=VALUE with NAME a template variable's name."
            )
        pinned[name] = (*pinned.get(name, ()), value.strip())
    return pinned


def _from_text(option: Option, raw: str) -> object:
    """A variable's text as the option's type."""
    name = option.env_name
    parsers: dict[str, Callable[[str], object]] = {
        "text": lambda text: text,
        "path": Path,
        "paths": lambda text: tuple(Path(part) for part in text.split(os.pathsep) if part.strip()),
        "switch": lambda text: _switch(text, name) != option.inverted,
        "seconds": lambda text: _seconds(text, name),
        "count": lambda text: _count(text, name),
        "pins": lambda text: parse_var_pins(
            [part for part in text.split(",") if part.strip()], name
        ),
    }
    return parsers[option.type](raw)


def values_from_env(source: Mapping[str, str]) -> dict[str, object]:
    """What the environment sets, by Settings field (dotted names for nested ones); an
    unset or empty variable sets nothing. Secrets are read by the caller (NAME_FILE)."""
    values: dict[str, object] = {}
    for option in OPTIONS:
        if not option.field or option.field in SECRETS or not option.variable:
            continue
        raw = source.get(option.env_name, "")
        if raw:
            values[option.field] = _from_text(option, raw)
    return values


def add_pytest_options(parser: Any) -> None:
    """Declare every option that has a flag in pytest's group `scanium-e2e`."""
    group = parser.getgroup("scanium-e2e", "Scanium end-to-end verification")
    for option in OPTIONS:
        if option.flag is None:
            continue
        kwargs: dict[str, Any] = {"help": _flag_help(option), "dest": option.dest}
        if option.metavar:
            kwargs["metavar"] = option.metavar
        if option.type == "switch":
            kwargs.update(action="store_true", default=None if option.field else False)
        elif option.type == "paths":
            kwargs.update(nargs="+", default=None)
        elif option.type == "pins":
            kwargs.update(action="append", default=None)
        else:
            kwargs.update(default=None, choices=option.choices or None)
        group.addoption(option.pytest_flag, **kwargs)


def overrides_from(getoption: Callable[[str], object]) -> dict[str, object]:
    """The Settings fields the pytest command line sets (`getoption(pytest flag)`; None or
    an empty list: not given), by the same rules as the variables."""
    overrides: dict[str, object] = {}
    for option in OPTIONS:
        if not option.field or option.pytest_flag is None:
            continue
        given = getoption(option.pytest_flag)
        if given is None or given == [] or given is False:
            continue
        if option.type == "switch":
            overrides[option.field] = not option.inverted
        elif option.type == "paths" and isinstance(given, list | tuple):
            overrides[option.field] = tuple(Path(str(path)) for path in given)
        elif option.type == "pins" and isinstance(given, list | tuple):
            overrides[option.field] = parse_var_pins(
                [str(pin) for pin in given], option.pytest_flag
            )
        elif option.type == "path":
            overrides[option.field] = Path(str(given))
        else:
            overrides[option.field] = given
    return overrides


def markdown_table() -> str:
    """README's configuration table, generated from OPTIONS."""
    rows = ["| pytest option | variable | default |", "|---|---|---|"]
    for option in OPTIONS:
        flag = f"`{option.pytest_flag}`" if option.pytest_flag else ""
        if option.pytest_flag and option.metavar:
            flag = f"`{option.pytest_flag} {option.metavar}`"
        variable = f"`{option.env_name}`" if option.variable else "—"
        if option.type == "paths" and option.variable:
            variable += " (`:`-separated)"
        if option.type == "pins" and option.variable:
            variable += " (`a=1,b=2`)"
        rows.append(f"| {flag} | {variable} | {option.default} |")
    return "\n".join(rows)
