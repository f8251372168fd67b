"""The started stack: docker-compose.test.yml driven through Testcontainers.

One compose file serves Testcontainers and `docker compose up` alike. Every knob is an
interpolation variable, passed here through a private env file (it holds the run's API
key, so it is mode 0600 and removed on stop); the env file also names the compose project
(`COMPOSE_PROJECT_NAME`), so Testcontainers' DockerCompose is used as it is. Like
grafana/e2e's scenarios, a start first removes the leftovers of an earlier crashed run of
the same project, and stop is idempotent.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from testcontainers.compose import DockerCompose

from scanium_e2e.contract import load_contract
from scanium_e2e.errors import StackError
from scanium_e2e.progress import phase
from scanium_e2e.secrets import Masker
from scanium_e2e.settings import REPO_ROOT, Settings, environment_snapshot
from scanium_e2e.stack import StackEndpoints
from scanium_e2e.stack.alloy_config import PipelineComponents, discover, write_alias_override
from scanium_e2e.stack.alloy_preflight import read_components
from scanium_e2e.stack.readiness import ServicesNotReady, wait_until_ready

SERVICES = ("stub-llm", "backend", "store", "alloy")
OUR_ALLOY_CONFIG = REPO_ROOT / "fixtures" / "alloy" / "config.alloy"
ALLOY_CONFIG_VARIABLE = "SCANIUM_STACK_ALLOY_CONFIG"
# Where the backend pushes its OTLP metrics and spans (docker-compose.test.yml's default is
# our config's receiver, http://alloy:4319).
OTLP_ENDPOINT_VARIABLE = "SCANIUM_E2E_OTLP_ENDPOINT"
OWNER_LABEL = "scanium-e2e.owner-pid"


def _alive(pid: int) -> bool:
    """True when a process with this PID exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


LOG_TAIL_LINES = 25
# What a backend image must do (README, "Your backend image"), said when one does not.
BACKEND_IMAGE_CONTRACT = (
    "The backend image {image} must: listen on port 8080 (it gets PORT=8080); answer "
    "GET /health with 200 over plain HTTP; serve Prometheus text at GET /metrics over plain "
    "HTTP; answer POST /v1/assist/chat with the key in SCANIUM_API_KEYS; call the LLM at "
    "OPENAI_BASE_URL / ANTHROPIC_BASE_URL (the stub LLM) with OPENAI_API_KEY / "
    "CLAUDE_API_KEY, the provider named by SCANIUM_ASSISTANT_PROVIDER."
)


logger = logging.getLogger(__name__)


@dataclass
class _StackCompose(DockerCompose):
    """Testcontainers' DockerCompose whose `docker compose` commands see `environment`
    over the shell's: compose lets the shell's variables win over the env file, and a
    variant's overrides (the incident's exempt list, the external-mode proof's healthy one)
    must win over a variable the user set for the session's own stack."""

    environment: dict[str, str] = field(default_factory=dict)

    def _run_command(
        self, cmd: str | list[str], context: str | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(
                cmd,
                capture_output=True,
                check=True,
                cwd=context or str(self.context),
                env={**environment_snapshot(), **self.environment},
            )
        except subprocess.CalledProcessError as exc:
            logger.error("Command %r failed with exit code %s", exc.cmd, exc.returncode)
            logger.error("STDERR:\n%s", exc.stderr.decode(errors="ignore"))
            raise


def _compose_for(
    context: Path,
    files: Sequence[str],
    env_file: Path,
    environment: Mapping[str, str] | None = None,
) -> DockerCompose:
    """A DockerCompose whose env file names its project (COMPOSE_PROJECT_NAME); the
    variables of `environment` win over the shell's."""
    return _StackCompose(
        context=str(context),
        compose_file_name=list(files),
        env_file=str(env_file),
        wait=False,
        environment=dict(environment or {}),
    )


def _duration(seconds: float) -> str:
    return f"{seconds:g}s" if seconds >= 1 else f"{round(seconds * 1000)}ms"


def docker_available() -> None:
    """Raise StackError with a clear paragraph when no Docker engine answers."""
    if shutil.which("docker") is None:
        raise StackError(
            "the docker CLI is not installed, so the stack cannot be started. Install Docker "
            "(on Debian: scripts/provision.sh does it), or verify an existing deployment with "
            "--scanium-stack=external."
        )
    probe = subprocess.run(
        ["docker", "info", "--format", "{{.ServerVersion}}"],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    if probe.returncode != 0:
        reason = (probe.stderr or probe.stdout).strip().splitlines()
        raise StackError(
            "no Docker engine answers (`docker info`: "
            + (reason[-1] if reason else f"exit {probe.returncode}")
            + "). Start one (scripts/provision.sh starts dockerd as root), or verify an "
            "existing deployment with --scanium-stack=external."
        )


class ComposeStack:
    """A stack this run starts, owns, and tears down."""

    started_here = True

    def __init__(
        self,
        settings: Settings,
        *,
        project_name: str | None = None,
        overrides: Mapping[str, str] | None = None,
        masker: Masker | None = None,
        extra_compose_files: Sequence[Path] = (),
        main: bool = True,
    ) -> None:
        self.settings = settings
        # The stack under test reports its phases as progress; stacks beside it log them.
        self.main = main
        self.project_name = project_name or settings.compose_project
        self.overrides = dict(overrides or {})
        self.masker = masker or Masker(settings.secrets())
        self.timings: dict[str, float] = {}
        self._workdir = Path(tempfile.mkdtemp(prefix=f"{self.project_name}-"))
        self._files = [
            settings.compose_file.name,
            *(str(path.resolve()) for path in extra_compose_files),
        ]
        self._compose = _compose_for(
            settings.compose_file.parent, self._files, self._write_env_file(), self.overrides
        )
        self._stopped = False
        self.endpoints = StackEndpoints(backend_url="", alloy_url="", mimir_url="")
        # What the user's Alloy config verifies (None: our own config, the contract's ids).
        self.components: PipelineComponents | None = None
        self._exits_seen: tuple[float, dict[str, str]] = (0.0, {})
        self._exits_lock = threading.Lock()
        self._exits_looking = False

    @classmethod
    def variant(
        cls,
        settings: Settings,
        name: str,
        overrides: Mapping[str, str],
        masker: Masker | None = None,
        extra_compose_files: Sequence[Path] = (),
        *,
        reference: bool = True,
    ) -> ComposeStack:
        """A separate stack `<project>-<name>` with its own run_id and `overrides`.

        A variant breaks the reference pipeline on purpose (incident, deviations,
        mutations), so by default it runs our Alloy config and the reference backend even
        when the run verifies the user's; `reference=False` keeps the user's parts.
        """
        changed = dataclasses.replace(settings, run_id=f"{settings.run_id}-{name}")
        if reference:
            changed = dataclasses.replace(
                changed,
                alloy_config=None,
                images=dataclasses.replace(
                    settings.images, backend=settings.images.reference_backend
                ),
            )
        return cls(
            changed,
            project_name=f"{settings.compose_project}-{name}",
            overrides=overrides,
            masker=masker,
            extra_compose_files=extra_compose_files,
            main=False,
        )

    def describe_images(self) -> str:
        """`stack scanium-e2e-run-x: store Cortex v1.21.1 (image ...), alloy ..., ...`."""
        s = self.settings
        images = [
            f"store {s.store_title} ({s.store_image})",
            f"alloy {s.images.alloy}",
            f"backend {s.images.backend}",
            f"stub-llm {s.images.stub_llm}",
        ]
        return f"stack {self.project_name}: " + ", ".join(images)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.project_name})"

    def _interpolation(self) -> dict[str, str]:
        s = self.settings
        interval = _duration(s.scrape_interval_s)
        values = {
            "COMPOSE_PROJECT_NAME": self.project_name,
            "SCANIUM_E2E_API_KEY": s.api_key,
            "SCANIUM_E2E_BEARER_TOKEN": s.bearer_token,
            "SCANIUM_E2E_PROVIDER": s.provider,
            "SCANIUM_E2E_RUN_ID": s.run_id,
            "SCANIUM_E2E_TENANT": s.tenant or "anonymous",
            "SCANIUM_E2E_SCRAPE_INTERVAL": interval,
            "SCANIUM_E2E_SCRAPE_TIMEOUT": _duration(min(s.scrape_interval_s, 10.0)),
            "SCANIUM_E2E_OTEL_EXPORT_INTERVAL_MS": str(round(s.otlp_export_interval_s * 1000)),
            "SCANIUM_E2E_STORE_IMAGE": s.store_image,
            "SCANIUM_E2E_STORE_CONFIG": str(s.store_kind.config_file),
            "SCANIUM_E2E_ALLOY_IMAGE": s.images.alloy,
            "SCANIUM_E2E_BACKEND_IMAGE": s.images.backend,
            "SCANIUM_E2E_STUB_IMAGE": s.images.stub_llm,
            "SCANIUM_E2E_ENVIRONMENT": s.environment,
            # A kept stack outlives this process on purpose: owner 0 is never removed.
            "SCANIUM_E2E_OWNER_PID": "0" if s.keep_stack else str(os.getpid()),
        }
        # Always given, under a name of the stack's own: compose lets the shell's variables
        # win over this file, and there SCANIUM_E2E_ALLOY_CONFIG may name the user's config
        # while a reference variant must run ours.
        values[ALLOY_CONFIG_VARIABLE] = str((s.alloy_config or OUR_ALLOY_CONFIG).resolve())
        values.update(self.overrides)
        return values

    def read_alloy_config(self) -> PipelineComponents | None:
        """For the user's Alloy config: let Alloy read it (pre-flight), pick the components
        the suite verifies, and give the stack the host names the config uses.

        Raises ConfigurationError (bad input) with Alloy's own error when it rejects the
        config, or naming what in the config the stack cannot answer.
        """
        if self.settings.alloy_config is None and ALLOY_CONFIG_VARIABLE not in self.overrides:
            return None  # ours: the contract names its components
        config = self._interpolation()[ALLOY_CONFIG_VARIABLE]
        began = time.monotonic()
        contract = load_contract(self.settings.contract_file)
        found = discover(
            read_components(self.settings.images.alloy, Path(config)),
            scrape_component=contract.scrape.component,
            remote_write_component=contract.scrape.remote_write_component,
            job=contract.scrape.job,
            otlp_receiver=contract.otlp.receiver if contract.otlp is not None else None,
            config=Path(config),
        )
        if found.otlp is not None:
            # The backend exports to the receiver the config has, on its port.
            self.overrides[OTLP_ENDPOINT_VARIABLE] = f"http://alloy:{found.otlp.port}"
        override = write_alias_override(found, self._workdir)
        self._files.append(str(override))
        self._compose = _compose_for(
            self.settings.compose_file.parent,
            self._files,
            self._workdir / "stack.env",
            self.overrides,
        )
        self.timings["alloy_preflight"] = time.monotonic() - began
        return found

    def exited_services(self) -> dict[str, str]:
        """Services whose container has stopped, and how ("exited with code 1").

        Asked by every readiness probe that fails. It answers at once from the last look
        and, when that is over half a second old, has one `docker compose ps` take a new
        look in the background: the probes never wait on the compose CLI (about half a
        second a call on 2 cores), and an exit is still known within a second or so.
        """
        with self._exits_lock:
            asked_at, known = self._exits_seen
            if time.monotonic() - asked_at >= 0.5 and not self._exits_looking:
                self._exits_looking = True
                threading.Thread(
                    target=self._look_for_exits, name="exit-watch", daemon=True
                ).start()
            return known

    def _look_for_exits(self) -> None:
        known: dict[str, str] = {}
        try:
            containers = self._compose.get_containers(include_all=True)
            known = {
                str(c.Service): f"exited with code {c.ExitCode}"
                for c in containers
                if c.Service and c.State in ("exited", "dead")
            }
        except subprocess.CalledProcessError:
            pass  # no stack yet (or gone): nothing has exited
        finally:
            with self._exits_lock:
                self._exits_seen = (time.monotonic(), known)
                self._exits_looking = False

    def _write_env_file(self) -> Path:
        path = self._workdir / "stack.env"
        path.touch(mode=0o600)
        lines = [f"{key}={value}" for key, value in self._interpolation().items()]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def remove_leftovers(self) -> None:
        """Remove the stacks of earlier runs that crashed or were killed.

        Every container carries the PID of the process that started it; a stack whose
        owner is gone is a leftover. Stacks of runs still alive are left alone, so two
        runs can share a machine. A stack started by hand (`docker compose up`, owner 0)
        is never touched.
        """
        listing = subprocess.run(
            [
                "docker",
                "ps",
                "--all",
                "--filter",
                f"label={OWNER_LABEL}",
                "--format",
                f'{{{{.Label "com.docker.compose.project"}}}} {{{{.Label "{OWNER_LABEL}"}}}}',
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        stale = {self.project_name}
        for line in listing.stdout.splitlines():
            project, _, owner = line.partition(" ")
            if project and owner.isdigit() and int(owner) > 0 and not _alive(int(owner)):
                stale.add(project)
        for project in sorted(stale):
            env_file = self._workdir / f"leftover-{project}.env"
            # `down` interpolates the file too: the required key needs a (dummy) value.
            env_file.write_text(
                f"COMPOSE_PROJECT_NAME={project}\nSCANIUM_E2E_API_KEY=leftover\n",
                encoding="utf-8",
            )
            leftover = _compose_for(self.settings.compose_file.parent, self._files, env_file)
            # CalledProcessError: nothing of it left to remove.
            with contextlib.suppress(subprocess.CalledProcessError):
                leftover.stop()
            env_file.unlink(missing_ok=True)

    def start(self) -> StackEndpoints:
        """Start every service, wait until each is really ready, and return the endpoints."""
        docker_available()
        began = time.monotonic()
        self.components = self.read_alloy_config()
        self.remove_leftovers()
        self.timings["cleanup"] = time.monotonic() - began
        phase(f"starting {self.describe_images()}", main=self.main)
        try:
            # `up --detach`: pulls official images and builds ours only when missing.
            self._compose.start()
        except subprocess.CalledProcessError as exc:
            s = self.settings
            detail = self.masker.mask((exc.stderr or b"").decode(errors="replace").strip())
            self.stop()
            raise StackError(
                f"`docker compose up` failed for project {self.project_name}: "
                f"{detail[-1500:]}. Without a registry the images must exist locally, the "
                f"store's too ({s.store_title}: {s.store_image}; SCANIUM_E2E_STORE="
                f"{s.store}): run scripts/provision.sh, which builds Cortex and selects it, or "
                "set SCANIUM_E2E_STORE and SCANIUM_E2E_*_IMAGE to images you have."
            ) from None
        self.timings["up"] = time.monotonic() - began
        phase(f"containers created in {self.timings['up']:.1f} s", main=self.main)
        self.endpoints = self._resolve_endpoints()
        try:
            ready = wait_until_ready(
                self.endpoints,
                tenant=self.settings.tenant,
                mimir_prefix=self.settings.mimir_prefix,
                store_name=self.settings.store_kind.product,
                timeout_s=self.settings.ready_timeout_s,
                exited=self.exited_services,
                on_ready=lambda service, seconds: phase(
                    f"{service} ready in {seconds:.1f} s", main=self.main
                ),
            )
        except ServicesNotReady as exc:
            names = ", ".join(exc.failures)
            parts = [
                f"{service}: {failure}. Last {LOG_TAIL_LINES} lines of its log:\n"
                + self.log_tail(service)
                for service, failure in exc.failures.items()
            ]
            if "backend" in exc.failures:
                parts.append(BACKEND_IMAGE_CONTRACT.format(image=self.settings.images.backend))
            raise StackError(
                f"the stack did not become ready ({names}):\n" + "\n".join(parts)
            ) from None
        self.timings.update({f"ready:{name}": seconds for name, seconds in ready.items()})
        self.timings["start_to_ready"] = time.monotonic() - began
        return self.endpoints

    def _port(self, service: str, port: int) -> int:
        try:
            published = self._compose.get_service_port(service, port)
        except Exception as exc:  # testcontainers raises several kinds here
            ended = self.exited_services().get(service)
            hint = (
                "\n" + BACKEND_IMAGE_CONTRACT.format(image=self.settings.images.backend)
                if service == "backend"
                else ""
            )
            raise StackError(
                f"{service} publishes no port {port} ({ended or exc}); is it running? Log "
                f"tail:\n{self.log_tail(service)}{hint}"
            ) from None
        if not published:
            raise StackError(f"{service} publishes no port {port}")
        return int(published)

    def url_of(self, service: str, port: int) -> str:
        """`http://127.0.0.1:<published port>` of a service beyond the four endpoints (the
        alert webhook sink); StackError when it publishes none."""
        return f"http://127.0.0.1:{self._port(service, port)}"

    def _resolve_endpoints(self) -> StackEndpoints:
        def url(service: str, port: int) -> str:
            return f"http://127.0.0.1:{self._port(service, port)}"

        target = self._interpolation().get("SCANIUM_E2E_SCRAPE_TARGET", "scanium-backend:8080")
        if self.components is not None:
            target = self.components.target
        # One `docker compose port` each, asked at once: in turn they cost most of a second.
        ports = {"backend": 8080, "alloy": 12345, "store": 9009, "stub-llm": 8000}
        with ThreadPoolExecutor(max_workers=len(ports) + 1) as pool:
            otlp = pool.submit(self._backend_variable, "OTEL_EXPORTER_OTLP_ENDPOINT")
            urls = dict(zip(ports, pool.map(url, ports, ports.values()), strict=True))
        return StackEndpoints(
            backend_url=urls["backend"],
            alloy_url=urls["alloy"],
            mimir_url=urls["store"],
            stub_url=urls["stub-llm"],
            scrape_target=target,
            otlp_endpoint=otlp.result(),
        )

    def _backend_variable(self, name: str) -> str:
        """One variable of the running backend container's environment, as it was told it
        (an attached stack's overrides are its starter's, not ours); "" when unknown."""
        try:
            container = self._compose.get_container("backend")
            found = subprocess.run(
                ["docker", "inspect", "--format", "{{json .Config.Env}}", str(container.ID)],
                capture_output=True,
                text=True,
                timeout=20,
                check=True,
            )
            variables = json.loads(found.stdout)
        except (subprocess.SubprocessError, ValueError, OSError, RuntimeError):
            return ""
        prefix = name + "="
        return next((v[len(prefix) :] for v in variables if v.startswith(prefix)), "")

    def logs(self, service: str, *, masked: bool = True) -> str:
        """The log of one service (stdout and stderr as compose shows them).

        Masked unless the caller scans for leaks, which needs the raw text.
        """
        try:
            stdout, stderr = self._compose.get_logs(service)
        except subprocess.CalledProcessError as exc:
            stdout, stderr = "", f"(no log: `docker compose logs {service}` exit {exc.returncode})"
        text = stdout + stderr
        return self.masker.mask(text) if masked else text

    def log_tail(self, service: str, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines of a service's log, for failure messages."""
        if service not in SERVICES:
            return ""
        text = self.logs(service).rstrip().splitlines()
        return "\n".join(text[-lines:]) or "(empty log)"

    def save_logs(self, folder: Path) -> list[Path]:
        """Write each service's masked log to `folder/<service>.log` (read at once: one
        `docker compose logs` costs about half a second)."""
        folder.mkdir(parents=True, exist_ok=True)
        with ThreadPoolExecutor(max_workers=len(SERVICES)) as pool:
            texts = dict(zip(SERVICES, pool.map(self.logs, SERVICES), strict=True))
        written = []
        for service, text in texts.items():
            path = folder / f"{service}.log"
            path.write_text(text, encoding="utf-8")
            written.append(path)
        return written

    def stop(self) -> None:
        """Remove containers and volumes; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        # CalledProcessError: already gone (removed by hand, or never created).
        with contextlib.suppress(subprocess.CalledProcessError):
            self._compose.stop()
        shutil.rmtree(self._workdir, ignore_errors=True)


class AttachedStack(ComposeStack):
    """A local stack another process started (`--scanium-stack=attach`), found by its project.

    Nothing is started or removed; ports and logs are read through compose, as for a
    stack started here. It is local and private to one run (the mutation harness starts
    one per variant), so what only a started stack allows holds: exact counts, log scans,
    the stub LLM's journal, the store's discarded-sample counters.
    """

    def start(self) -> StackEndpoints:
        """Resolve the running services' endpoints; StackError when the project is absent."""
        docker_available()
        self.endpoints = self._resolve_endpoints()
        return self.endpoints

    def stop(self) -> None:
        """Leave the containers to their owner; remove only our private env file."""
        self._stopped = True
        shutil.rmtree(self._workdir, ignore_errors=True)


@contextmanager
def variant_stack(
    settings: Settings,
    name: str,
    overrides: Mapping[str, str],
    masker: Masker | None = None,
    extra_compose_files: Sequence[Path] = (),
) -> Iterator[ComposeStack]:
    """Start a separate stack `<project>-<name>` (own run_id) with `overrides`; always removed.

    Used for deliberately broken deployments (the seed incident, mutation variants) and for
    the external-mode proof, so they never share series or counters with the main stack.
    """
    stack = ComposeStack.variant(settings, name, overrides, masker, extra_compose_files)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
