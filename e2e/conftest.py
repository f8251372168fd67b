"""Session fixtures of the e2e suite: settings -> stack -> pipeline (-> traffic).

The stack starts once per session. If any test failed, teardown writes the artifacts
(container logs, Alloy's component JSON, the last queries, a /metrics snapshot) to a
folder whose path it prints, then removes the stack unless --scanium-keep-stack.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from scanium_e2e.alerts.scenarios import load_inputs
from scanium_e2e.alerts.session import AlertSession
from scanium_e2e.checks.counts import settle_counts
from scanium_e2e.checks.expectations import COUNT_ROLES
from scanium_e2e.checks.otlp import settle_otlp
from scanium_e2e.checks.registry import LOCAL_ONLY, check_of, unregistered
from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.contract import Contract, load_contract
from scanium_e2e.dashboards import dashboard_files, load_dashboards
from scanium_e2e.errors import (
    EXIT_BAD_INPUT,
    EXIT_STACK_FAILED,
    ConfigurationError,
    ScaniumE2EError,
)
from scanium_e2e.external_run import ExternalRun
from scanium_e2e.mutation import load_catalog, prepared
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.pytest_plugin import activate
from scanium_e2e.secrets import Masker
from scanium_e2e.session.artifacts import write_artifacts
from scanium_e2e.session.extras import ExtraStacks
from scanium_e2e.session.own_pipeline import StackVerdict, verify_stack
from scanium_e2e.session.traffic import run_traffic, session_plan
from scanium_e2e.settings import REPO_ROOT, Settings
from scanium_e2e.stack import Stack
from scanium_e2e.stack.compose import AttachedStack, ComposeStack
from scanium_e2e.stack.external import ExternalStack
from scanium_e2e.suite_plugin import (
    RATE_LIMITS_PROPERTY,
    announce,
    record_accepted,
    record_artifacts,
    record_deviations,
    record_proved,
    record_rate_limits,
    record_section,
    session_masker,
    settings_of,
    show_progress,
)
from scanium_e2e.traffic.run import TrafficRun


def pytest_configure(config: pytest.Config) -> None:
    """The suite's hooks, also for a run that reaches this folder from a parent one."""
    activate(config)


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


@pytest.fixture(autouse=True)
def _local_only(request: pytest.FixtureRequest) -> None:
    """One rule for what a run against a deployment cannot check: a check that needs a
    local stack, the stub LLM's journal or the suite's own proofs is skipped there, saying
    which need it has (checks/registry.py), before any fixture starts anything."""
    check = check_of(request.node.nodeid)
    if check is None or not check.local_only:
        return
    built = settings_of(request.config)
    if built.external_mode:
        needs = ", ".join(sorted(need for need in check.needs if need in LOCAL_ONLY))
        pytest.skip(f"{check.name} needs {needs}: external mode reads a deployment only")


@pytest.fixture(scope="session")
def settings(pytestconfig: pytest.Config) -> Settings:
    """The run's settings; a configuration error ends the session with one paragraph."""
    try:
        built = settings_of(pytestconfig)
        # A malformed dashboard or alert rule file is bad input before any stack starts.
        load_dashboards(built.dashboards)
        load_inputs(built.alert_rules, built.datasources, built.alertmanager_config)
    except ScaniumE2EError as exc:
        pytest.exit(f"scanium-e2e: {exc}", returncode=EXIT_BAD_INPUT)
    masker = session_masker(pytestconfig)
    for secret in built.secrets():
        masker.add(secret)
    show_progress(pytestconfig)
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
# The fixed list, pinned for the stack the external-mode proof must find healthy: a user
# who applies the seed incident to the session's stack (README) breaks that stack, not the
# proof of the suite's own external mode (one defect, one failure).
HEALTHY = {"SCANIUM_E2E_BACKEND_EXEMPT_PATHS": "/health,/healthz,/readyz,/metrics"}
EXTRAS = pytest.StashKey[ExtraStacks]()
OWN_VERDICTS = pytest.StashKey[dict[str, "Future[StackVerdict]"]]()
PRODUCTION_STYLE = REPO_ROOT / "fixtures" / "alloy" / "production-style.alloy"
PRODUCTION_DASHBOARDS = REPO_ROOT / "fixtures" / "grafana" / "production"
# The broken variant: the backend's scrape job asks for /metricz, which the backend lacks.
BROKEN_SCRAPE_PATH = ('metrics_path    = "/metrics"', 'metrics_path    = "/metricz"')
OWN_PIPELINE = ("own-pipeline", "own-pipeline-broken")


def _wanted(request: pytest.FixtureRequest, fixture: str) -> bool:
    return any(fixture in getattr(item, "fixturenames", ()) for item in request.session.items)


def _external_run(args: tuple[str, ...] = ()) -> Callable[[ComposeStack], ExternalRun]:
    """An external-mode proof of `pytest e2e/ <args>` against a stack, once it is ready."""

    def build(stack: ComposeStack) -> ExternalRun:
        return ExternalRun(
            stack, api_key=stack.settings.api_key, run_id=stack.settings.run_id + "-ext", args=args
        )

    return build


def _extras(
    settings: Settings, masker: Masker, request: pytest.FixtureRequest, patched: ExitStack
) -> ExtraStacks:
    """The stacks beside the main one that the collected tests need, and their proofs."""
    stacks: dict[str, ComposeStack] = {}
    runs: dict[str, Callable[[ComposeStack], ExternalRun]] = {}
    proofs = _wanted(request, "external_runs")
    if proofs or _wanted(request, "incident_stack"):
        # With an Alertmanager config the incident stack also runs the webhook sink.
        routing = {"COMPOSE_PROFILES": "alerts"} if settings.alertmanager_config else {}
        stacks["incident"] = ComposeStack.variant(
            settings, "incident", {**INCIDENT, **routing}, masker
        )
    if proofs:
        # Its own healthy stack: the proof's traffic never touches the session's counts.
        stacks["external-proof"] = ComposeStack.variant(settings, "external-proof", HEALTHY, masker)
        runs["external-proof"] = _external_run()
        runs["incident"] = _external_run(("-x", "e2e/test_scrape_health.py"))
    if _wanted(request, "deviation_stacks"):
        for variant in load_catalog().deviations:
            compose_files, _ = patched.enter_context(prepared(variant))
            stacks[variant.name] = ComposeStack.variant(
                settings, variant.name, variant.overrides, masker, compose_files
            )
    if _wanted(request, "own_pipeline_verdicts"):
        folder = Path(patched.enter_context(tempfile.TemporaryDirectory()))
        for name, config in own_pipeline_configs(folder).items():
            stacks[name] = ComposeStack.variant(
                dataclasses.replace(settings, alloy_config=config),
                name,
                {},
                masker,
                reference=False,
            )
    return ExtraStacks(stacks, runs)


def own_pipeline_configs(folder: Path) -> dict[str, Path]:
    """The production-style Alloy config, and a copy whose backend scrape job asks for a
    path the backend does not serve (the broken variant e2e/test_own_pipeline.py checks)."""
    text = PRODUCTION_STYLE.read_text(encoding="utf-8")
    broken = text.replace(*BROKEN_SCRAPE_PATH)
    assert broken != text, f"{PRODUCTION_STYLE} no longer holds {BROKEN_SCRAPE_PATH[0]!r}"
    broken_path = folder / "production-style-broken-scrape.alloy"
    broken_path.write_text(broken, encoding="utf-8")
    return dict(zip(OWN_PIPELINE, (PRODUCTION_STYLE, broken_path), strict=True))


def _verify_own(
    extras: ExtraStacks, contract: Contract, masker: Masker, cleanup: ExitStack
) -> dict[str, Future[StackVerdict]]:
    """Verify the own-pipeline stacks in the background, each once it is ready: their waits
    (a 5 s scrape, Alloy's 15 s remote-write wake-up) then cost no wall time of their own."""
    names = [name for name in OWN_PIPELINE if name in extras]
    if not names:
        return {}
    pool = cleanup.enter_context(
        ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="own-pipeline")
    )
    files = dashboard_files([PRODUCTION_DASHBOARDS])

    def verify(name: str) -> StackVerdict:
        return verify_stack(extras.get(name), contract, masker, files)

    return {name: pool.submit(verify, name) for name in names}


@pytest.fixture(scope="session")
def stack(
    settings: Settings, contract: Contract, masker: Masker, request: pytest.FixtureRequest
) -> Iterator[Stack]:
    """The stack under test: started here with Testcontainers, or attached to.

    Stacks the collected tests need beside it (the incident stack, the external-mode
    proofs' healthy stack, the deviation stacks of e2e/test_deviations.py) start in the
    background once it is ready (session/extras.py): their start-up overlaps the main
    stack's wait for Alloy's first scrape, and each external-mode proof starts the moment
    its stack is ready.
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
    if settings.attached:
        yield from _attached(settings, masker)
        return
    with ExitStack() as cleanup:
        main = ComposeStack(settings, masker=masker)
        extras = _extras(settings, masker, request, cleanup)
        request.config.stash[EXTRAS] = extras
        # The external-mode proof's stack is the long pole of the session (its own Alloy
        # waits 5 s for a first scrape, then the proof runs a whole pytest): it starts with
        # the main one; the other extras once the main one is ready.
        extras.start([name for name in ("external-proof",) if name in extras])
        try:
            main.start()
        except ScaniumE2EError as exc:
            main.stop()
            extras.stop()
            # A config Alloy rejects, or one the stack cannot answer, is bad input (exit 4).
            code = EXIT_BAD_INPUT if isinstance(exc, ConfigurationError) else EXIT_STACK_FAILED
            pytest.exit(f"scanium-e2e: {exc}", returncode=code)
        except BaseException:
            main.stop()
            extras.stop()
            raise
        cleanup.callback(_stop_all, main, extras, keep_main=settings.keep_stack)
        extras.start()
        # Registered after the stop: the verifications end before their stacks go.
        request.config.stash[OWN_VERDICTS] = _verify_own(extras, contract, masker, cleanup)
        yield main


def _attached(settings: Settings, masker: Masker) -> Iterator[Stack]:
    """A local stack another process started (--scanium-stack=attach: the mutation harness)."""
    attached = AttachedStack(settings, masker=masker)
    try:
        attached.start()
    except ScaniumE2EError as exc:
        pytest.exit(f"scanium-e2e: {exc}", returncode=EXIT_BAD_INPUT)
    try:
        yield attached
    finally:
        attached.stop()


def _stop_all(main: ComposeStack, extras: ExtraStacks, *, keep_main: bool) -> None:
    """Remove the main stack (unless kept) and the extras at the same time."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        stops = [pool.submit(extras.stop)] + ([] if keep_main else [pool.submit(main.stop)])
        for future in stops:
            future.result()


def _extra(request: pytest.FixtureRequest, name: str) -> ComposeStack:
    """A stack beside the main one, once ready; one that cannot start ends the session."""
    try:
        return request.config.stash[EXTRAS].get(name)
    except ScaniumE2EError as exc:
        pytest.exit(f"scanium-e2e: {exc}", returncode=EXIT_STACK_FAILED)


@pytest.fixture(scope="session")
def incident_stack(
    settings: Settings, stack: Stack, request: pytest.FixtureRequest
) -> ComposeStack:
    """A stack whose backend does not exempt /metrics from HTTPS enforcement (the incident)."""
    if settings.external_mode or settings.attached:
        pytest.skip("the incident stack is started locally; external mode starts nothing")
    return _extra(request, "incident")


@pytest.fixture(scope="session")
def external_runs(
    settings: Settings, stack: Stack, request: pytest.FixtureRequest
) -> dict[str, ExternalRun]:
    """The external-mode proofs, each running since its stack was ready: "healthy" (a
    stack of its own) and "incident"."""
    if settings.external_mode or settings.attached:
        pytest.skip("external mode runs no proof of itself: it starts no stack")
    for name in ("external-proof", "incident"):
        _extra(request, name)
    extras = request.config.stash[EXTRAS]
    return {"healthy": extras.run("external-proof"), "incident": extras.run("incident")}


@pytest.fixture(scope="session")
def own_pipeline_verdicts(
    settings: Settings, stack: Stack, request: pytest.FixtureRequest
) -> dict[str, Future[StackVerdict]]:
    """The background verifications of the production-style stacks (healthy and broken)."""
    if settings.external_mode or settings.attached:
        pytest.skip("the own-pipeline stacks are started locally; external mode starts nothing")
    for name in OWN_PIPELINE:
        _extra(request, name)
    return request.config.stash[OWN_VERDICTS]


@pytest.fixture(scope="session")
def deviation_stacks(
    settings: Settings, stack: Stack, request: pytest.FixtureRequest
) -> dict[str, ComposeStack]:
    """Stacks whose backend deviates from the contract as real ones do (the catalog's
    DEVIATIONS, e2e/mutation_catalog.py)."""
    if settings.external_mode or settings.attached:
        pytest.skip("the deviation stacks are started locally; external mode starts nothing")
    return {variant.name: _extra(request, variant.name) for variant in load_catalog().deviations}


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
        for line in stack.components.describe().splitlines():
            announce(request.config, line)
    try:
        yield built
    finally:
        if request.session.testsfailed:
            folder = write_artifacts(built)
            record_artifacts(request.config, folder)
            announce(request.config, f"failure artifacts written to {folder}")
        built.close()


@pytest.fixture(scope="session")
def sent_traffic(
    pipeline: Pipeline,
    settings: Settings,
    masker: Masker,
    request: pytest.FixtureRequest,
    record_testsuite_property: Callable[[str, object], None],
) -> TrafficRun:
    """The session's traffic, sent: the ledger of what went out and what came back.

    Tests of the answers, and of leaks in /metrics and logs, need only this: they still
    run when the pipeline is cut after the backend (`TrafficRun.gate_failure`). The HTTP
    429s it met are part of the verdict (terminal, JSON, Markdown) and of the JUnit
    report's properties.
    """
    if not settings.send_traffic:
        pytest.skip(
            "--scanium-no-traffic: checks that compare the store with a ledger need traffic"
        )
    try:
        run = run_traffic(pipeline, session_plan(settings, pipeline.contract))
    except ScaniumE2EError as exc:
        # A closed port, a wrong key, HTTPS refused: bad input, not a failed check.
        pytest.exit(
            masker.mask(f"scanium-e2e: traffic could not be sent: {exc}"), returncode=EXIT_BAD_INPUT
        )
    for value in run.ledger.planted():
        masker.add_canary(value)
    limits = run.ledger.rate_limit_summary()
    if limits is not None:
        note = masker.mask(run.ledger.rate_limit_note())
        record_rate_limits(request.config, note, limits)
        record_testsuite_property(RATE_LIMITS_PROPERTY, masker.mask(json.dumps(limits)))
    return run


@pytest.fixture(scope="session")
def settlement(
    pipeline: Pipeline, sent_traffic: TrafficRun, request: pytest.FixtureRequest
) -> CountSettlement:
    """Every count check of the sent traffic, settled: each role's verdict for its test
    (`wait_for_planned`), and the deviations they named, for the summary. The one owner of
    the session's count settlement.

    If no scrape held the first wave, each test that reads the store fails with that wait's
    diagnosis.
    """
    run = sent_traffic
    if run.gate_failure is not None:
        raise run.gate_failure
    # All count checks poll the store at once; each test then reads (or re-raises) its verdict.
    settlement = CountSettlement(run)
    settle_counts(pipeline, settlement)
    record_deviations(request.config, [finding.render() for finding in settlement.deviations])
    verdicts = settlement.verdicts()
    exact = tuple(
        role
        for role in COUNT_ROLES
        if role in verdicts and not isinstance(verdicts[role], Exception)
    )
    record_proved(request.config, requests=len(run.ledger.entries), exact_counts=exact)
    return settlement


@pytest.fixture(scope="session")
def otlp_settlement(
    pipeline: Pipeline, sent_traffic: TrafficRun, request: pytest.FixtureRequest
) -> CountSettlement:
    """Every OTLP count and the rate-limit gauges of the sent traffic, settled at once
    (checks/otlp.py). Independent of the scrape: no scrape holding the first wave (the
    seed incident) leaves the OTLP road to be judged on its own."""
    settlement = CountSettlement(sent_traffic)
    if pipeline.contract.otlp is not None:
        settle_otlp(pipeline, settlement)
        record_deviations(request.config, [finding.render() for finding in settlement.deviations])
        exact = tuple(
            role
            for role, verdict in settlement.verdicts().items()
            if not isinstance(verdict, Exception)
        )
        record_proved(request.config, otlp_counts=exact)
    return settlement


@pytest.fixture(scope="session")
def traffic(settlement: CountSettlement) -> TrafficRun:
    """The sent traffic with every count check settled: for the tests that read the store."""
    return settlement.run


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


# --- alert rules (alerts/): judged on the session stack and the incident stack ----------
@pytest.fixture(scope="session")
def alert_session(
    settings: Settings,
    contract: Contract,
    stack: Stack,
    masker: Masker,
    request: pytest.FixtureRequest,
) -> Iterator[AlertSession]:
    """The rules loaded into the session stack's ruler at once, and the incident judged in
    the background from the moment its stack is ready (when a collected test wants it)."""
    try:
        session = AlertSession(settings, contract, masker)
    except ScaniumE2EError as exc:
        pytest.exit(f"scanium-e2e: {exc}", returncode=EXIT_BAD_INPUT)
    try:
        session.start_healthy(stack)
        if EXTRAS in request.config.stash and "incident" in request.config.stash[EXTRAS]:
            session.start_incident(lambda: _extra(request, "incident"))
        if _wanted(request, "alert_copy_outcome") and not settings.external_mode:
            # The whole-suite proof (--scanium-mutations) runs beside the session from here on.
            session.start_copy_proof()
        yield session
    finally:
        session.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test of the suite is a registered check (checks/registry.py): one that is not
    fails collection. Routing is proved only with an Alertmanager config
    (--scanium-alertmanager-config), and alert rules are judged only on stacks that run our
    Alloy config: with --scanium-alloy-config the session stack's job is yours while the
    incident stack runs ours, so no one rule set fits both. Such tests are deselected, not
    skipped (CI fails on skips), and the summary says so.
    """
    ours = [item for item in items if item.nodeid.startswith("e2e/")]
    stray = unregistered(item.nodeid for item in ours)
    if stray:
        raise pytest.UsageError(
            "scanium-e2e: tests that are no registered check (add each to "
            f"scanium_e2e/checks/registry.py): {', '.join(stray)}"
        )
    try:
        built = settings_of(config)
    except ScaniumE2EError:
        return  # the settings fixture reports it, with the exit code
    markers = [] if built.alertmanager_config is not None else ["alertmanager"]
    if built.own_alloy_config:
        markers.append("alert_rules")
        record_section(
            config,
            "alert rules",
            "not judged: --scanium-alloy-config runs your Alloy config on the session stack "
            "while the incident stack runs ours (job scanium-backend); judge your rules on your "
            "deployment with `scanium-e2e alerts`",
        )
    dropped = [i for i in items if any(i.get_closest_marker(m) is not None for m in markers)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]
