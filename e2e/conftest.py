"""Session fixtures of the e2e suite: settings -> stack -> pipeline (-> traffic).

The stack starts once per session. If any test failed, teardown writes the artifacts
(container logs, Alloy's component JSON, the last queries, a /metrics snapshot) to a
folder whose path it prints, then removes the stack unless --keep-stack.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from scanium_e2e.checks.counts import settle_counts
from scanium_e2e.checks.own_pipeline import StackVerdict, verify_stack
from scanium_e2e.cli import EXIT_BAD_INPUT, EXIT_STACK_FAILED
from scanium_e2e.contract import Contract, load_contract
from scanium_e2e.dashboards import dashboard_files, load_dashboards
from scanium_e2e.errors import ConfigurationError, ScaniumE2EError
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.pytest_plugin import (
    record_accepted,
    record_deviations,
    record_section,
    session_masker,
    settings_of,
)
from scanium_e2e.secrets import Masker
from scanium_e2e.selftest import DEVIATIONS, prepared
from scanium_e2e.settings import REPO_ROOT, Settings
from scanium_e2e.stack import Stack
from scanium_e2e.stack.compose import ComposeStack
from scanium_e2e.stack.external import ExternalStack
from scanium_e2e.traffic.run import TrafficRun
from scanium_e2e.traffic.session import run_traffic, session_plan
from scanium_e2e.verdict.artifacts import write_artifacts
from scanium_e2e.verdict.findings import distinct


def pytest_report_header(config: pytest.Config) -> str:
    """Which store this run talks to, named as what actually runs."""
    try:
        built = settings_of(config)
    except ScaniumE2EError:
        return ""  # the settings fixture reports it, with the exit code
    if built.external_mode:
        return f"scanium-e2e: external deployment, store {built.store_title}"
    lines = [f"scanium-e2e: store {built.store_title} (image {built.store_image})"]
    if built.alloy_config is not None:
        lines.append(f"scanium-e2e: Alloy config {built.alloy_config} (yours, run unchanged)")
    if built.images.backend != built.images.reference_backend:
        lines.append(f"scanium-e2e: backend image {built.images.backend} (yours)")
    return "\n".join(lines)


@pytest.fixture(scope="session")
def settings(pytestconfig: pytest.Config) -> Settings:
    """The run's settings; a configuration error ends the session with one paragraph."""
    try:
        built = settings_of(pytestconfig)
        # A malformed dashboard is bad input before any stack starts.
        load_dashboards(built.dashboards)
    except ScaniumE2EError as exc:
        pytest.exit(f"scanium-e2e: {exc}", returncode=EXIT_BAD_INPUT)
    masker = session_masker(pytestconfig)
    for secret in built.secrets():
        masker.add(secret)
    return built


@pytest.fixture(scope="session")
def masker(pytestconfig: pytest.Config, settings: Settings) -> Masker:
    """Masks every secret the session knows of."""
    return session_masker(pytestconfig)


@pytest.fixture(scope="session")
def contract(settings: Settings) -> Contract:
    """The expectations file."""
    try:
        return load_contract(settings.contract_file)
    except ScaniumE2EError as exc:
        pytest.exit(f"scanium-e2e: {exc}", returncode=EXIT_BAD_INPUT)


# The backend's exempt list as it was before the fix: /metrics missing.
INCIDENT = {"SCANIUM_E2E_BACKEND_EXEMPT_PATHS": "/health,/healthz,/readyz"}
EXTRA_STACKS = pytest.StashKey[dict[str, ComposeStack]]()
OWN_VERDICTS = pytest.StashKey[dict[str, "Future[StackVerdict]"]]()
PRODUCTION_STYLE = REPO_ROOT / "fixtures" / "alloy" / "production-style.alloy"
PRODUCTION_DASHBOARDS = REPO_ROOT / "fixtures" / "grafana" / "production"
# The broken variant: the backend's scrape job asks for /metricz, which the backend lacks.
BROKEN_SCRAPE_PATH = ('metrics_path    = "/metrics"', 'metrics_path    = "/metricz"')


def _wanted(request: pytest.FixtureRequest, fixture: str) -> bool:
    return any(fixture in getattr(item, "fixturenames", ()) for item in request.session.items)


@pytest.fixture(scope="session")
def stack(
    settings: Settings, contract: Contract, masker: Masker, request: pytest.FixtureRequest
) -> Iterator[Stack]:
    """The stack under test: started here with Testcontainers, or attached to.

    When collected tests need the incident stack or the deviation stacks (variants of the
    backend, e2e/test_deviations.py), they start at the same time as the main one, so
    their start-up costs no extra wall time.
    """
    if settings.external_mode:
        external = ExternalStack(settings)
        try:
            external.preflight()
            external.discover_components(contract)
        except ScaniumE2EError as exc:
            pytest.exit(f"scanium-e2e: {exc}", returncode=EXIT_BAD_INPUT)
        yield external
        return
    with ExitStack() as patched:
        main = ComposeStack(settings, masker=masker)
        extras: dict[str, ComposeStack] = {}
        if _wanted(request, "incident_stack"):
            extras["incident"] = ComposeStack.variant(settings, "incident", INCIDENT, masker)
        if _wanted(request, "deviation_stacks"):
            for variant in DEVIATIONS:
                compose_files, _ = patched.enter_context(prepared(variant))
                extras[variant.name] = ComposeStack.variant(
                    settings, variant.name, variant.overrides, masker, compose_files
                )
        own: dict[str, ComposeStack] = {}
        if _wanted(request, "own_pipeline_verdicts"):
            folder = Path(patched.enter_context(tempfile.TemporaryDirectory()))
            for name, config in own_pipeline_configs(folder).items():
                own[name] = ComposeStack.variant(
                    dataclasses.replace(settings, alloy_config=config),
                    name,
                    {},
                    masker,
                    reference=False,
                )
        extras.update(own)
        request.config.stash[EXTRA_STACKS] = extras
        # The own-pipeline stacks are verified in the background while the session's
        # tests run: their waits (a 5 s scrape, Alloy's 15 s remote-write wake-up) then
        # cost no wall time of their own.
        background = patched.enter_context(
            ThreadPoolExecutor(max_workers=max(1, len(own)), thread_name_prefix="own-pipeline")
        )

        def verify_own() -> None:
            request.config.stash[OWN_VERDICTS] = {
                name: background.submit(
                    verify_stack, each, contract, masker, dashboard_files([PRODUCTION_DASHBOARDS])
                )
                for name, each in own.items()
            }

        yield from _started(main, extras, settings, verify_own)


def own_pipeline_configs(folder: Path) -> dict[str, Path]:
    """The production-style Alloy config, and a copy whose backend scrape job asks for a
    path the backend does not serve (the broken variant e2e/test_own_pipeline.py checks)."""
    text = PRODUCTION_STYLE.read_text(encoding="utf-8")
    broken = text.replace(*BROKEN_SCRAPE_PATH)
    assert broken != text, f"{PRODUCTION_STYLE} no longer holds {BROKEN_SCRAPE_PATH[0]!r}"
    broken_path = folder / "production-style-broken-scrape.alloy"
    broken_path.write_text(broken, encoding="utf-8")
    return {"own-pipeline": PRODUCTION_STYLE, "own-pipeline-broken": broken_path}


def _started(
    main: ComposeStack,
    extras: dict[str, ComposeStack],
    settings: Settings,
    after_start: Callable[[], None] | None = None,
) -> Iterator[Stack]:
    everything = [main, *extras.values()]
    try:
        with ThreadPoolExecutor(max_workers=len(everything)) as pool:
            for future in [pool.submit(each.start) for each in everything]:
                future.result()
    except ScaniumE2EError as exc:
        for each in everything:
            each.stop()
        # A config Alloy rejects, or one the stack cannot answer, is bad input (exit 4).
        code = EXIT_BAD_INPUT if isinstance(exc, ConfigurationError) else EXIT_STACK_FAILED
        pytest.exit(f"scanium-e2e: {exc}", returncode=code)
    except BaseException:
        for each in everything:
            each.stop()
        raise
    if after_start is not None:
        after_start()
    try:
        yield main
    finally:
        # Each `down` waits on its own containers: all stacks stop at once.
        leaving = [each for each in everything if not settings.keep_stack or each is not main]
        with ThreadPoolExecutor(max_workers=max(1, len(leaving))) as pool:
            for stopping in [pool.submit(each.stop) for each in leaving]:
                stopping.result()


@pytest.fixture(scope="session")
def incident_stack(
    settings: Settings, stack: Stack, request: pytest.FixtureRequest
) -> ComposeStack:
    """A stack whose backend does not exempt /metrics from HTTPS enforcement (the incident)."""
    if settings.external_mode:
        pytest.skip("the incident stack is started locally; external mode starts nothing")
    return request.config.stash[EXTRA_STACKS]["incident"]


@pytest.fixture(scope="session")
def own_pipeline_verdicts(
    settings: Settings, stack: Stack, request: pytest.FixtureRequest
) -> dict[str, Future[StackVerdict]]:
    """The background verifications of the production-style stacks (healthy and broken)."""
    if settings.external_mode:
        pytest.skip("the own-pipeline stacks are started locally; external mode starts nothing")
    return request.config.stash[OWN_VERDICTS]


@pytest.fixture(scope="session")
def deviation_stacks(
    settings: Settings, stack: Stack, request: pytest.FixtureRequest
) -> dict[str, ComposeStack]:
    """Stacks whose backend deviates from the contract as real ones do (selftest.DEVIATIONS)."""
    if settings.external_mode:
        pytest.skip("the deviation stacks are started locally; external mode starts nothing")
    stacks = request.config.stash[EXTRA_STACKS]
    return {variant.name: stacks[variant.name] for variant in DEVIATIONS}


@pytest.fixture(scope="session")
def pipeline(
    settings: Settings,
    contract: Contract,
    stack: Stack,
    masker: Masker,
    request: pytest.FixtureRequest,
) -> Iterator[Pipeline]:
    """Clients over the running stack; writes artifacts at the end if anything failed."""
    built = Pipeline.connect(settings, contract, stack, masker)
    if stack.components is not None:
        # The choice the suite made in the user's config, said at once and in the summary.
        record_section(request.config, "your Alloy config", stack.components.describe())
        terminal = request.config.pluginmanager.get_plugin("terminalreporter")
        if terminal is not None:
            terminal.write_line("")
            for line in stack.components.describe().splitlines():
                terminal.write_line(f"scanium-e2e: {line}")
    try:
        yield built
    finally:
        if request.session.testsfailed:
            folder = write_artifacts(built)
            terminal = request.config.pluginmanager.get_plugin("terminalreporter")
            if terminal is not None:
                terminal.write_line(f"scanium-e2e: failure artifacts written to {folder}")
        built.close()


@pytest.fixture(scope="session")
def traffic(
    pipeline: Pipeline, settings: Settings, masker: Masker, request: pytest.FixtureRequest
) -> TrafficRun:
    """Send the session's traffic once the scrape works; returns the ledger and baselines."""
    if not settings.send_traffic:
        pytest.skip("--no-traffic: checks that compare the store with a ledger need traffic")
    try:
        run = run_traffic(pipeline, session_plan(settings))
    except ScaniumE2EError as exc:
        # A closed port, a wrong key, HTTPS refused: bad input, not a failed check.
        pytest.exit(
            masker.mask(f"scanium-e2e: traffic could not be sent: {exc}"), returncode=EXIT_BAD_INPUT
        )
    for value in run.ledger.planted():
        masker.add(value)
    # All count checks poll the store at once; each test then reads (or re-raises) its verdict.
    settle_counts(pipeline, run)
    record_deviations(request.config, [finding.render() for finding in distinct(run.deviations)])
    return run


@pytest.fixture
def accept(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Report a deviation the contract accepts on purpose: a line in the summary."""

    def accepted(reason: str) -> None:
        record_accepted(request.config, request.node.nodeid, reason)

    return accepted


@pytest.fixture
def waive(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """End a test whose criterion the contract waives: xfail "accepted by contract: ..."."""

    def waived(reason: str) -> None:
        pytest.xfail(record_accepted(request.config, request.node.nodeid, reason))

    return waived
