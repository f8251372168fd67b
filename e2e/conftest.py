"""Session fixtures of the e2e suite: settings -> stack -> pipeline (-> traffic).

The stack starts once per session. If any test failed, teardown writes the artifacts
(container logs, Alloy's component JSON, the last queries, a /metrics snapshot) to a
folder whose path it prints, then removes the stack unless --keep-stack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from scanium_e2e.checks.counts import settle_counts
from scanium_e2e.cli import EXIT_BAD_INPUT, EXIT_STACK_FAILED
from scanium_e2e.contract import Contract, load_contract
from scanium_e2e.errors import ScaniumE2EError
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.pytest_plugin import record_accepted, record_deviations, session_masker
from scanium_e2e.secrets import Masker
from scanium_e2e.selftest import DEVIATIONS, prepared
from scanium_e2e.settings import Settings
from scanium_e2e.stack import Stack
from scanium_e2e.stack.compose import AttachedStack, ComposeStack
from scanium_e2e.stack.external import ExternalStack
from scanium_e2e.traffic.run import TrafficRun
from scanium_e2e.traffic.session import run_traffic, session_plan
from scanium_e2e.verdict.artifacts import write_artifacts
from scanium_e2e.verdict.findings import distinct


def _options(config: pytest.Config) -> dict[str, object]:
    def option(name: str) -> object:
        return config.getoption(name, default=None)

    overrides: dict[str, object] = {
        "stack_mode": option("--stack"),
        "store": option("--store"),
        "run_id": option("--run-id"),
        "provider": option("--provider"),
        "keep_stack": option("--keep-stack"),
    }
    if option("--no-traffic"):
        overrides["send_traffic"] = False
    for key, name in (("artifacts_dir", "--artifacts-dir"), ("contract_file", "--contract")):
        value = option(name)
        if value:
            overrides[key] = Path(str(value))
    return overrides


def pytest_report_header(config: pytest.Config) -> str:
    """Which store this run talks to, named as what actually runs."""
    try:
        built = Settings.from_env(overrides=_options(config))
    except ScaniumE2EError:
        return ""  # the settings fixture reports it, with the exit code
    if built.external_mode:
        return f"scanium-e2e: external deployment, store {built.store_title}"
    return f"scanium-e2e: store {built.store_title} (image {built.store_image})"


@pytest.fixture(scope="session")
def settings(pytestconfig: pytest.Config) -> Settings:
    """The run's settings; a configuration error ends the session with one paragraph."""
    try:
        built = Settings.from_env(overrides=_options(pytestconfig))
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


def _wanted(request: pytest.FixtureRequest, fixture: str) -> bool:
    return any(fixture in getattr(item, "fixturenames", ()) for item in request.session.items)


@pytest.fixture(scope="session")
def stack(settings: Settings, masker: Masker, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """The stack under test: started here with Testcontainers, or attached to.

    When collected tests need the incident stack or the deviation stacks (variants of the
    backend, e2e/test_deviations.py), they start at the same time as the main one, so
    their start-up costs no extra wall time.
    """
    if settings.external_mode:
        external = ExternalStack(settings)
        try:
            external.preflight()
        except ScaniumE2EError as exc:
            pytest.exit(f"scanium-e2e: {exc}", returncode=EXIT_BAD_INPUT)
        yield external
        return
    if settings.attached:
        yield from _attached(settings, masker)
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
        request.config.stash[EXTRA_STACKS] = extras
        yield from _started(main, extras, settings)


def _attached(settings: Settings, masker: Masker) -> Iterator[Stack]:
    attached = AttachedStack(settings, masker=masker)
    try:
        attached.start()
    except ScaniumE2EError as exc:
        pytest.exit(f"scanium-e2e: {exc}", returncode=EXIT_BAD_INPUT)
    try:
        yield attached
    finally:
        attached.stop()


def _started(
    main: ComposeStack, extras: dict[str, ComposeStack], settings: Settings
) -> Iterator[Stack]:
    everything = [main, *extras.values()]
    try:
        with ThreadPoolExecutor(max_workers=len(everything)) as pool:
            for future in [pool.submit(each.start) for each in everything]:
                future.result()
    except ScaniumE2EError as exc:
        for each in everything:
            each.stop()
        pytest.exit(f"scanium-e2e: {exc}", returncode=EXIT_STACK_FAILED)
    except BaseException:
        for each in everything:
            each.stop()
        raise
    try:
        yield main
    finally:
        for each in everything:
            if not settings.keep_stack or each is not main:
                each.stop()


@pytest.fixture(scope="session")
def incident_stack(
    settings: Settings, stack: Stack, request: pytest.FixtureRequest
) -> ComposeStack:
    """A stack whose backend does not exempt /metrics from HTTPS enforcement (the incident)."""
    if settings.external_mode or settings.attached:
        pytest.skip("the incident stack is started locally; only a started stack has it")
    return request.config.stash[EXTRA_STACKS]["incident"]


@pytest.fixture(scope="session")
def deviation_stacks(
    settings: Settings, stack: Stack, request: pytest.FixtureRequest
) -> dict[str, ComposeStack]:
    """Stacks whose backend deviates from the contract as real ones do (selftest.DEVIATIONS)."""
    if settings.external_mode or settings.attached:
        pytest.skip("the deviation stacks are started locally; only a started stack has it")
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
