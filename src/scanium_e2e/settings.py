"""One `Settings` object, built once from pytest options and the environment.

Nothing else in the library reads the environment: the stack, traffic and checks all take
their configuration from here, handed down from the one place that builds it.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from scanium_e2e.errors import ConfigurationError
from scanium_e2e.options import ENV_PREFIX, values_from_env
from scanium_e2e.resources import INSTALLED, ROOT
from scanium_e2e.secrets import distinct_token
from scanium_e2e.stores import STORES, StoreKind

T = TypeVar("T")

# The suite's files: the checkout, or the copy an installed wheel carries (resources.py).
REPO_ROOT = ROOT
# What scripts/provision.sh (`scanium-e2e provision`) wrote: the checkout's file, else the
# cache's (an installed package's folder is no place for it).
PROVISIONED_ENV_FILE = REPO_ROOT / ".scanium-e2e.env"
# Testcontainers reads its configuration from the environment, once, when imported.
TESTCONTAINERS_PREFIX = "TESTCONTAINERS_"


def provisioned_env_file(env: Mapping[str, str] | None = None) -> Path:
    """The env file provisioning wrote for this machine: the checkout's when there is one,
    else the one in SCANIUM_E2E_CACHE (default ~/.cache/scanium-e2e)."""
    if PROVISIONED_ENV_FILE.is_file():
        return PROVISIONED_ENV_FILE
    source = os.environ if env is None else env
    cache = source.get(f"{ENV_PREFIX}CACHE", "") or str(Path.home() / ".cache" / "scanium-e2e")
    return Path(cache) / "scanium-e2e.env"


def apply_provisioned_runtime() -> dict[str, str]:
    """Put what provisioning recorded for Testcontainers (Ryuk off where no registry can
    be reached) into this process's environment, where the user set nothing, before
    Testcontainers is imported; returns what it set."""
    path = provisioned_env_file()
    recorded = read_dotenv(path) if path.is_file() else {}
    applied = {
        key: value
        for key, value in recorded.items()
        if key.startswith(TESTCONTAINERS_PREFIX) and key not in os.environ
    }
    os.environ.update(applied)
    return applied


# The images Scanium runs in production; users with a registry get these by default.
# The store's image follows the store setting (stores.py).
OFFICIAL_ALLOY_IMAGE = "grafana/alloy:v1.0.0"
# Our own services are built from fixtures/*/Dockerfile under these names when missing.
DEFAULT_BACKEND_IMAGE = "scanium-e2e/backend:dev"
DEFAULT_STUB_IMAGE = "scanium-e2e/stub-llm:dev"

# testcontainers: start the stack here; external: reach a deployment by URL (counts "at
# least", local-only checks skipped); attach: a local stack another process started (the
# mutation harness), found by its compose project: exact counts and local checks hold.
STACK_MODES = ("testcontainers", "external", "attach")
PROVIDERS = ("openai", "claude")
# The env/deployment_environment label our Alloy config gives a started stack's series.
DEFAULT_ENVIRONMENT = "e2e"


def reading_environment(read: Callable[[], T]) -> T:
    """`read()`, which iterates os.environ, run again when another thread changed the
    environment under it: pytest sets and deletes PYTEST_CURRENT_TEST around every test
    while the count checks, the stacks beside the session's and the harness work in
    background threads, and iterating os.environ then raises (KeyError seen in CI)."""
    for _ in range(100):
        try:
            return read()
        except (KeyError, RuntimeError):
            continue
    return read()


def environment_snapshot() -> dict[str, str]:
    """A copy of the process environment, safe to take from any thread."""
    return reading_environment(lambda: dict(os.environ))


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a `.env` file (KEY=VALUE lines, `#` comments, optional quotes)."""
    values: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read the env file {path}: {exc.strerror}.") from None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :]
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ConfigurationError(f"{path}:{number}: expected KEY=VALUE.")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _secret_from(env: Mapping[str, str], name: str) -> str:
    """A secret comes from NAME, or from the file named by NAME_FILE (CI secret stores)."""
    direct = env.get(name, "")
    file_name = env.get(f"{name}_FILE", "")
    if direct and file_name:
        raise ConfigurationError(f"set {name} or {name}_FILE, not both.")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(
                f"{name}_FILE names {file_name}, which cannot be read: {exc.strerror}."
            ) from None
    return direct


@dataclass(frozen=True)
class Images:
    """Container images of the started stack."""

    # One image per kind of store (empty: the kind's default); the store setting picks one,
    # so switching SCANIUM_E2E_STORE never pairs one store's image with another's config.
    mimir: str = ""
    cortex: str = ""
    alloy: str = OFFICIAL_ALLOY_IMAGE
    backend: str = DEFAULT_BACKEND_IMAGE
    stub_llm: str = DEFAULT_STUB_IMAGE
    # The reference backend (fixtures/backend), which the incident, deviation and mutation
    # stacks break on purpose; `backend` differs from it when --scanium-backend-image names yours.
    reference_backend: str = DEFAULT_BACKEND_IMAGE


@dataclass(frozen=True)
class ExternalEndpoints:
    """URLs of an existing deployment (pre-deploy mode)."""

    backend_url: str = ""
    alloy_url: str = ""
    mimir_url: str = ""


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know, built once and handed down."""

    stack_mode: str = "testcontainers"
    # Which store a started stack runs: "mimir" (official image) or "cortex" (built here).
    store: str = "mimir"
    images: Images = field(default_factory=Images)
    external: ExternalEndpoints = field(default_factory=ExternalEndpoints)
    # A unique label per run, so runs never read each other's data.
    run_id: str = field(default_factory=lambda: f"run-{secrets.token_hex(4)}")
    # Compose project of the started stack; empty means `scanium-e2e-<run_id>`, so that
    # concurrent runs on one machine never touch each other's containers.
    project_name: str = ""
    compose_file: Path = REPO_ROOT / "docker-compose.test.yml"
    # Mimir's Prometheus API prefix and an optional tenant (X-Scope-OrgID).
    mimir_prefix: str = "/prometheus"
    tenant: str = ""
    api_key: str = ""
    bearer_token: str = ""
    provider: str = "openai"
    scrape_interval_s: float = 1.0
    # How often the backend exports its OTLP metrics: an export after the traffic is due
    # within it, so a receiver that accepted nothing for longer has nothing on its way.
    otlp_export_interval_s: float = 1.0
    ready_timeout_s: float = 120.0
    data_timeout_s: float = 60.0
    # A quarter of the scrape interval: a wait sees new data within 0.25 s of its arrival,
    # at about 4 cheap queries a second per wait.
    poll_interval_s: float = 0.25
    send_traffic: bool = True
    # How much traffic a run sends: small, so pre-deploy runs barely touch production.
    traffic_successes: int = 8
    traffic_errors: int = 2
    keep_stack: bool = False
    # In the checkout, beside the suite; installed, in the directory the run starts from.
    artifacts_dir: Path = Path("e2e-artifacts") if INSTALLED else REPO_ROOT / "e2e-artifacts"
    contract_file: Path = REPO_ROOT / "fixtures" / "contract.json"
    # The user's own Alloy config, run unchanged (None: fixtures/alloy/config.alloy, ours).
    alloy_config: Path | None = None
    # Dashboards the e2e suite replays, files or folders (empty: the fixture dashboard),
    # and template variables pinned like `var-NAME=VALUE` in a Grafana URL.
    dashboards: tuple[Path, ...] = ()
    dashboard_vars: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The environment label our Alloy config gives every series (`env`,
    # `deployment_environment`): a production name lets environment filters match.
    environment: str = DEFAULT_ENVIRONMENT
    # Alert rules judged on the healthy and incident stacks (files or folders; Prometheus
    # rule files or Grafana alert provisioning), the Grafana data source provisioning their
    # uids resolve through (empty: ours), and an Alertmanager config whose routing is proved.
    alert_rules: tuple[Path, ...] = (REPO_ROOT / "fixtures" / "alerts" / "rules",)
    datasources: tuple[Path, ...] = ()
    alertmanager_config: Path | None = None
    # Where the verdict goes for machines: JSON (--scanium-verdict-json), and a Markdown job summary
    # (--scanium-summary-md, else the file GitHub Actions names in GITHUB_STEP_SUMMARY).
    verdict_json: Path | None = None
    summary_md: Path | None = None

    def __repr__(self) -> str:
        # pytest prints fixture arguments in tracebacks: one line, and never the API key.
        return f"Settings({self.stack_mode}, store {self.store}, run {self.run_id})"

    @property
    def own_alloy_config(self) -> bool:
        """True when the stack runs the user's Alloy config rather than ours."""
        return self.alloy_config is not None

    @property
    def external_mode(self) -> bool:
        """True when the suite attaches to a deployment instead of starting one."""
        return self.stack_mode == "external"

    @property
    def attached(self) -> bool:
        """True when the suite attaches to a local stack started by another process."""
        return self.stack_mode == "attach"

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, overrides: Mapping[str, object] | None = None
    ) -> Settings:
        """Build settings from environment variables (`SCANIUM_E2E_*`), then apply overrides.

        `overrides` carries pytest command-line options, which win over the environment.
        Files fill in what the environment does not set: the `.env` file named by
        SCANIUM_E2E_ENV_FILE, then the file provisioning wrote (`provisioned_env_file`:
        the locally built images).
        """
        source = dict(os.environ if env is None else env)
        env_file = source.get(f"{ENV_PREFIX}ENV_FILE", "")
        if env_file:
            source = {**read_dotenv(Path(env_file)), **source}
        provisioned = provisioned_env_file(source)
        if env is None and provisioned.is_file():
            source = {**read_dotenv(provisioned), **source}
        # One table (options.py) says which variable and flag set which field, and how.
        values = values_from_env(source)
        # GitHub Actions names its job summary file; a CI user expects the verdict there.
        if "summary_md" not in values and source.get("GITHUB_STEP_SUMMARY", "").strip():
            values["summary_md"] = Path(source["GITHUB_STEP_SUMMARY"].strip())
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        nested: dict[str, dict[str, object]] = {"images": {}, "external": {}}
        flat: dict[str, object] = {}
        for key, value in values.items():
            head, dot, rest = key.partition(".")
            if dot:
                nested[head][rest] = value
            else:
                flat[key] = value
        # --scanium-backend-image names yours; the reference backend (the one the incident,
        # deviation and mutation stacks break on purpose) stays the variable's or ours.
        nested["images"]["reference_backend"] = (
            source.get(f"{ENV_PREFIX}BACKEND_IMAGE", DEFAULT_BACKEND_IMAGE) or DEFAULT_BACKEND_IMAGE
        )
        flat["images"] = Images(**nested["images"])  # type: ignore[arg-type]
        flat["external"] = ExternalEndpoints(
            **{key: str(value).rstrip("/") for key, value in nested["external"].items()}
        )
        flat["api_key"] = _secret_from(source, ENV_PREFIX + "API_KEY")
        flat["bearer_token"] = _secret_from(source, ENV_PREFIX + "BEARER_TOKEN")
        settings = cls(**flat)  # type: ignore[arg-type]
        return settings.validated()

    def validated(self) -> Settings:
        """Check the combination of values; fill in what a started stack may choose itself."""
        if self.stack_mode not in STACK_MODES:
            raise ConfigurationError(
                f"stack mode {self.stack_mode!r} is unknown: use one of {', '.join(STACK_MODES)}."
            )
        if self.store not in STORES:
            raise ConfigurationError(
                f"store {self.store!r} is unknown: SCANIUM_E2E_STORE (or --scanium-store) must "
                f"be one of {', '.join(STORES)}."
            )
        if self.provider not in PROVIDERS:
            raise ConfigurationError(
                f"provider {self.provider!r} is unknown: use one of {', '.join(PROVIDERS)}."
            )
        self._check_own_files()
        if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", self.environment):
            raise ConfigurationError(
                f"environment label {self.environment!r} (SCANIUM_E2E_ENVIRONMENT) must be "
                "1-64 letters, digits or ._:-"
            )
        if self.external_mode:
            if self.environment != DEFAULT_ENVIRONMENT:
                raise ConfigurationError(
                    f"--scanium-environment {self.environment} (SCANIUM_E2E_ENVIRONMENT) has no "
                    "effect in external mode: it is the env/deployment_environment label our Alloy "
                    "config gives a stack the suite starts, and a deployment's series carry "
                    "whatever its own Alloy config gives them. Drop --scanium-environment; to "
                    "choose which environment the dashboards show, pin their template variable "
                    "(--scanium-var NAME=VALUE)."
                )
            missing = [
                f"{ENV_PREFIX}{name}"
                for name, value in (
                    ("BACKEND_URL", self.external.backend_url),
                    ("ALLOY_URL", self.external.alloy_url),
                    ("MIMIR_URL", self.external.mimir_url),
                )
                if not value
            ]
            if missing:
                raise ConfigurationError(
                    "external mode needs the URLs of the deployment: set "
                    + ", ".join(missing)
                    + " (or pass them in a .env file named by SCANIUM_E2E_ENV_FILE)."
                )
            if self.send_traffic and not self.api_key:
                raise ConfigurationError(
                    "external mode sends traffic and needs the backend's API key: set "
                    "SCANIUM_E2E_API_KEY or SCANIUM_E2E_API_KEY_FILE, or pass --scanium-no-traffic."
                )
            return self
        if self.attached:
            if not self.project_name or not self.api_key:
                raise ConfigurationError(
                    "--scanium-stack=attach reads a local stack another process started: set "
                    "SCANIUM_E2E_PROJECT to its compose project and SCANIUM_E2E_API_KEY to "
                    "the key it was started with."
                )
            return self
        if not self.api_key:
            # A started stack gets a fresh key per run: it doubles as a leak canary.
            return dataclasses.replace(self, api_key=f"sk-e2e-{distinct_token(24)}")
        return self

    def _check_own_files(self) -> None:
        """The user's Alloy config and dashboards must exist: say which one does not."""
        if self.alloy_config is not None and not self.alloy_config.is_file():
            raise ConfigurationError(
                f"the Alloy config {self.alloy_config} (--scanium-alloy-config, "
                f"{ENV_PREFIX}ALLOY_CONFIG) is not a readable file."
            )
        for path in self.dashboards:
            if not path.exists():
                raise ConfigurationError(
                    f"the dashboard path {path} (--scanium-dashboards, {ENV_PREFIX}DASHBOARDS) "
                    "does not exist."
                )

    @property
    def store_kind(self) -> StoreKind:
        """The kind of store this run's stack runs."""
        return STORES[self.store]

    @property
    def store_image(self) -> str:
        """The store's image: SCANIUM_E2E_<STORE>_IMAGE, else the store kind's default."""
        chosen: str = getattr(self.images, self.store)
        return chosen or self.store_kind.default_image

    @property
    def store_title(self) -> str:
        """What messages call the store: the product and version that actually ran.

        An external deployment's store is whatever the user runs; its product is named
        by the store setting, without a version the suite cannot know.
        """
        if self.external_mode:
            return self.store_kind.product
        return self.store_kind.title(self.store_image)

    @property
    def compose_project(self) -> str:
        """The compose project name: explicit, or derived from the run id."""
        if self.project_name:
            return self.project_name
        safe = re.sub(r"[^a-z0-9_-]+", "-", self.run_id.lower()).strip("-")
        return f"scanium-e2e-{safe or 'run'}"

    def secrets(self) -> list[str]:
        """Values that must never be printed or stored."""
        return [value for value in (self.api_key, self.bearer_token) if value]
