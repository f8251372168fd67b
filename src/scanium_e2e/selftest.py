"""Mutation harness: does the suite catch deliberately broken stacks, for the right reason?

Each variant breaks one thing, through the stack's configuration (compose variables) or a
patched temporary copy of a fixture (the backend's source, the dashboard); the real
fixtures are never edited. The suite's checks then run against the variant, in order,
until one fails. A variant is *killed* when a check fails and its message carries the
variant's expected diagnosis; a check that fails for another reason, or no failure at all,
is a survivor: a bug in the suite.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from scanium_e2e.checks import counts, expectations, no_secrets, scrape
from scanium_e2e.contract import Contract
from scanium_e2e.errors import ConfigurationError, ScaniumE2EError
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.secrets import Masker
from scanium_e2e.settings import REPO_ROOT, Settings
from scanium_e2e.stack.compose import variant_stack
from scanium_e2e.traffic.run import TrafficRun
from scanium_e2e.traffic.session import run_traffic, session_plan

BACKEND_SOURCE = REPO_ROOT / "fixtures" / "backend" / "scanium_backend"
DASHBOARD = REPO_ROOT / "fixtures" / "grafana" / "dashboards" / "openai-runtime.json"


@dataclass(frozen=True)
class Patch:
    """Replace `old` (which must occur exactly once) by `new` in a copied file."""

    file: str
    old: str
    new: str


@dataclass(frozen=True)
class Variant:
    """One deliberately broken stack and the diagnosis the suite must give."""

    name: str
    breaks: str
    expect_check: str
    expect_diagnosis: tuple[str, ...]
    overrides: Mapping[str, str] = field(default_factory=dict)
    backend_patches: tuple[Patch, ...] = ()
    dashboard_patch: Patch | None = None


VARIANTS: tuple[Variant, ...] = (
    Variant(
        name="seed-bug",
        breaks="/metrics not exempt from HTTPS enforcement (the seed incident)",
        expect_check="up == 1",
        expect_diagnosis=("Broken hop: 1. backend /metrics", "HTTP 403"),
        overrides={"SCANIUM_E2E_BACKEND_EXEMPT_PATHS": "/health,/healthz,/readyz"},
    ),
    Variant(
        name="no-tokens",
        breaks="token metrics not recorded",
        expect_check="tokens",
        expect_diagnosis=("Broken hop: 1. backend /metrics", "scanium_assistant_tokens_used"),
        backend_patches=(
            Patch(
                "metrics.py",
                '"""Observe the usage of one successful LLM call."""\n',
                '"""Observe the usage of one successful LLM call."""\n        return\n',
            ),
        ),
    ),
    Variant(
        name="wrong-metric-name",
        breaks="requests counter exposed under a wrong name",
        expect_check="requests == ledger",
        expect_diagnosis=("Broken hop: 1. backend /metrics", "scanium_assistant_requests_total"),
        backend_patches=(
            Patch(
                "metrics.py",
                '"scanium_assistant_requests_total",',
                '"scanium_assistant_request_total",',
            ),
        ),
    ),
    Variant(
        name="no-provider-label",
        breaks="requests counter without its provider label",
        expect_check="requests == ledger",
        expect_diagnosis=("Broken hop: 5. query", "label `provider` never seen"),
        backend_patches=(
            Patch("metrics.py", '["provider", "status", "cache_hit"],', '["status", "cache_hit"],'),
            Patch(
                "metrics.py",
                "self.assistant_requests.labels(provider, status,",
                "self.assistant_requests.labels(status,",
            ),
        ),
    ),
    Variant(
        name="api-key-in-label",
        breaks="the caller's API key leaks into the route label",
        expect_check="no secret in the store's labels",
        expect_diagnosis=("secrets in the store's labels", "route"),
        backend_patches=(
            Patch(
                "http_observer.py",
                "route = route_template(self._routes, scope)",
                "route = route_template(self._routes, scope) + '|' + "
                "dict(scope['headers']).get(b'x-api-key', b'').decode()",
            ),
        ),
    ),
    Variant(
        name="raw-url-route",
        breaks="the raw URL (path and query) as the route label",
        expect_check="no secret in the store's labels",
        expect_diagnosis=("secrets in the store's labels", "route"),
        backend_patches=(
            Patch(
                "http_observer.py",
                "route = route_template(self._routes, scope)",
                "route = scope['path'] + '?' + scope['query_string'].decode()",
            ),
        ),
    ),
    Variant(
        name="alloy-job-label",
        breaks="Alloy scrapes the backend under another job name",
        expect_check="up == 1",
        expect_diagnosis=("Broken hop: 2. Alloy scrape", "not job='scanium-backend'"),
        overrides={"SCANIUM_E2E_SCRAPE_JOB": "backend-renamed"},
    ),
    Variant(
        name="remote-write-url",
        breaks="Alloy's remote_write points at a wrong URL",
        expect_check="up == 1",
        expect_diagnosis=("Broken hop: 3. remote write", "failed="),
        overrides={"SCANIUM_E2E_REMOTE_WRITE_URL": "http://mimir:9009/api/v1/pushh"},
    ),
    Variant(
        name="store-rejects",
        breaks="the store rejects samples (per-tenant series limit of 1)",
        expect_check="",
        # Cortex names the reason (per_user_series_limit) only in some runs: see hop 4.
        expect_diagnosis=("Broken hop: 4. store ingestion", "discarded samples ("),
        overrides={"SCANIUM_E2E_STORE_MAX_SERIES": "1"},
    ),
    Variant(
        name="dashboard-metric",
        breaks="a dashboard panel queries a metric that does not exist",
        expect_check="dashboard panels",
        expect_diagnosis=("Request Rate", "never seen"),
        dashboard_patch=Patch(
            "openai-runtime.json",
            '"expr": "sum(rate(scanium_assistant_requests_total{',
            '"expr": "sum(rate(scanium_assistant_requests_count{',
        ),
    ),
)


# Deviations real backends have, each a variant the whole suite runs against (in external
# mode, e2e/test_deviations.py): exactly the checks of the deviation must fail, naming it,
# and a contract that accepts it must pass with "accepted by contract" lines.
FAILURES_AS_SUCCESS = Patch(
    "assistant.py",
    'provider_id, "error", False, (self._timer() - started) * 1000',
    'provider_id, "success", False, (self._timer() - started) * 1000',
)
NO_ERROR_COUNTER = (
    # Never registered, so /metrics has not even its HELP line; and never incremented.
    Patch(
        "metrics.py",
        '"Assistant provider failures",\n'
        '            ["provider", "error_type", "reason_code"],\n'
        "            registry=self.registry,",
        '"Assistant provider failures",\n'
        '            ["provider", "error_type", "reason_code"],\n'
        "            registry=None,",
    ),
    Patch(
        "metrics.py",
        '"""Count one provider failure by its bounded type and reason code."""\n',
        '"""Count one provider failure by its bounded type and reason code."""\n        return\n',
    ),
)
DEVIATIONS: tuple[Variant, ...] = (
    Variant(
        name="failures-as-success",
        breaks="an LLM failure is answered with a 200 fallback and counted as status=success",
        expect_check="requests == ledger",
        expect_diagnosis=("injected LLM failures were counted as status=success",),
        backend_patches=(FAILURES_AS_SUCCESS,),
    ),
    Variant(
        name="no-error-counter",
        breaks="scanium_assistant_errors_total is never created",
        expect_check="errors == ledger",
        expect_diagnosis=("scanium_assistant_errors_total was never created",),
        backend_patches=NO_ERROR_COUNTER,
    ),
    # The one users meet: both at once (a 200 fallback counted as a success, no counter).
    Variant(
        name="success-no-errors",
        breaks=(
            "an LLM failure is answered with a 200 fallback, counted as status=success, "
            "and scanium_assistant_errors_total is never created"
        ),
        expect_check="requests == ledger",
        expect_diagnosis=(
            "injected LLM failures were counted as status=success",
            "scanium_assistant_errors_total was never created",
        ),
        backend_patches=(FAILURES_AS_SUCCESS, *NO_ERROR_COUNTER),
    ),
)


@dataclass(frozen=True)
class VariantResult:
    """How one variant fared."""

    variant: Variant
    killed: bool
    check: str
    diagnosis: str
    seconds: float

    def line(self) -> str:
        """One row of the report."""
        verdict = "killed  " if self.killed else "SURVIVED"
        first = self.diagnosis.strip().splitlines()[0] if self.diagnosis.strip() else ""
        broken = next(
            (ln.strip() for ln in self.diagnosis.splitlines() if ln.startswith("Broken hop")), ""
        )
        detail = broken or first
        return (
            f"{verdict} {self.variant.name:<18} {self.seconds:5.1f}s  "
            f"check: {self.check or '-'}  |  {detail[:160]}"
        )


def _apply(patch: Patch, folder: Path) -> None:
    path = folder / patch.file
    text = path.read_text(encoding="utf-8")
    if text.count(patch.old) != 1:
        raise ConfigurationError(
            f"mutation patch for {patch.file} no longer applies: {patch.old!r} occurs "
            f"{text.count(patch.old)} times (the fixture changed; update selftest.VARIANTS)."
        )
    path.write_text(text.replace(patch.old, patch.new), encoding="utf-8")


@contextmanager
def prepared(variant: Variant) -> Iterator[tuple[list[Path], Path]]:
    """Temporary patched copies: extra compose files (backend source) and the dashboard."""
    folder = Path(tempfile.mkdtemp(prefix=f"scanium-mutation-{variant.name}-"))
    try:
        compose_files: list[Path] = []
        if variant.backend_patches:
            source = folder / "scanium_backend"
            shutil.copytree(BACKEND_SOURCE, source, ignore=shutil.ignore_patterns("__pycache__"))
            for patch in variant.backend_patches:
                _apply(patch, source)
            # The container runs as an unprivileged user: the copy must be world-readable.
            for path in [folder, *folder.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)
            override = folder / "compose.mutation.yml"
            override.write_text(
                f"services:\n  backend:\n    volumes:\n      - {source}:/app/scanium_backend:ro\n",
                encoding="utf-8",
            )
            compose_files.append(override)
        dashboard = DASHBOARD
        if variant.dashboard_patch:
            dashboard = folder / DASHBOARD.name
            shutil.copy(DASHBOARD, dashboard)
            _apply(variant.dashboard_patch, folder)
        yield compose_files, dashboard
    finally:
        shutil.rmtree(folder, ignore_errors=True)


SuiteCheck = tuple[str, Callable[[], object]]


def suite_checks(pipeline: Pipeline, dashboard: Path) -> Iterator[SuiteCheck]:
    """The suite's checks in e2e order, as (name, thunk); later ones use earlier results."""
    from scanium_e2e.checks.dashboards import replay_dashboard

    settings = pipeline.settings
    yield "up == 1", lambda: scrape.wait_for_up(pipeline)
    runs: list[TrafficRun] = []
    plan = session_plan(settings)

    def traffic() -> None:
        runs.append(run_traffic(pipeline, plan))
        counts.settle_counts(pipeline, runs[0], expectations.COUNT_ROLES)

    yield "traffic (first wave counted)", traffic
    for role in expectations.COUNT_ROLES:
        yield (
            f"{role} == ledger",
            lambda role=role: counts.wait_for_planned(  # type: ignore[misc]
                pipeline, runs[0], role
            ),
        )
    series: list[list[dict[str, str]]] = []
    yield "series of the run", lambda: series.append(no_secrets.run_series(pipeline, runs[0]))
    yield (
        "no secret in the store's labels",
        lambda: no_secrets.no_secrets_in_labels(pipeline, runs[0], series[0]),
    )
    yield "no secret in /metrics", lambda: no_secrets.no_secrets_in_metrics_text(pipeline, runs[0])
    for service in ("backend", "alloy"):
        yield (
            f"no secret in {service} log",
            lambda service=service: no_secrets.no_secrets_in_log(  # type: ignore[misc]
                pipeline, runs[0], service
            ),
        )
    yield "series budget", lambda: no_secrets.series_within_budget(pipeline, series[0])
    yield "dashboard panels", lambda: replay_dashboard(pipeline, dashboard, runs[0])


def run_variant(
    settings: Settings, contract: Contract, variant: Variant, masker: Masker
) -> VariantResult:
    """Start the variant's stack, run the checks until one fails, and judge the failure."""
    started = time.monotonic()
    check, message = "", "survived: every check passed"
    with (
        prepared(variant) as (compose_files, dashboard),
        variant_stack(
            settings, f"mut-{variant.name}", variant.overrides, masker, compose_files
        ) as stack,
    ):
        pipeline = Pipeline.connect(stack.settings, contract, stack, masker)
        try:
            for name, thunk in suite_checks(pipeline, dashboard):
                try:
                    thunk()
                except (AssertionError, ScaniumE2EError) as exc:
                    check, message = name, masker.mask(str(exc))
                    break
        finally:
            pipeline.close()
    killed = bool(check) and all(part in message for part in variant.expect_diagnosis)
    if variant.expect_check and variant.expect_check not in check:
        killed = False
    return VariantResult(variant, killed, check, message, time.monotonic() - started)


def report(results: list[VariantResult]) -> str:
    """The harness report: one row per variant, then `killed N/M`."""
    killed = sum(result.killed for result in results)
    rows = "\n".join(result.line() for result in results)
    return f"{rows}\nkilled {killed}/{len(results)}"
