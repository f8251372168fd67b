"""Mutation harness: does the real suite catch deliberately broken stacks, precisely?

Each variant breaks one thing, through the stack's configuration (compose variables) or a
patched temporary copy of a fixture (the backend's source, the dashboard); the real
fixtures are never edited. For each variant its stack starts, and the real suite (`pytest`
over SUITE_FILES) runs against it in a subprocess, attached to it (`--scanium-stack=attach`: exact
counts, logs and the stub's journal hold as in a started stack), writing JUnit XML. The
result is judged on data: each failure's findings (hop, kind) travel as JUnit testcase
properties.

- *killed*: pytest exits 1 and every expected test failed, each with the variant's
  expected (hop, kind) among its findings;
- *killed, imprecise*: killed, but tests outside the expected set failed too;
- *survived*: an expected test passed (or failed for another reason): a defect in the
  suite, shown with what each expected test saw.

This module is the machinery. The catalog of variants (which test ids each must fail,
its patches) sits beside the suite it mutates, in `e2e/mutation_catalog.py`, read by
`load_catalog`. A run can be split into shards (`K/N`, a deterministic share of the
variants) whose JSON results `merge` into one coverage table.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from scanium_e2e.checks.registry import resolve
from scanium_e2e.errors import ConfigurationError
from scanium_e2e.findings import Kind
from scanium_e2e.secrets import Masker
from scanium_e2e.settings import REPO_ROOT, Settings
from scanium_e2e.stack.compose import ComposeStack, variant_stack
from scanium_e2e.suite_run import SUITE_FILES, Outcome, attach_environment, run_pytest

BACKEND_SOURCE = REPO_ROOT / "fixtures" / "backend" / "scanium_backend"
DASHBOARD = REPO_ROOT / "fixtures" / "grafana" / "dashboards" / "openai-runtime.json"
ALLOY_CONFIG = REPO_ROOT / "fixtures" / "alloy" / "config.alloy"
CATALOG_FILE = REPO_ROOT / "e2e" / "mutation_catalog.py"


@dataclass(frozen=True)
class Patch:
    """Replace `old` (which must occur exactly once) by `new` in a copied file."""

    file: str
    old: str
    new: str


# What a kill looks like: the test id, and the (hop, kind) its failure's finding carries.
Kill = tuple[int | None, str]


@dataclass(frozen=True)
class Variant:
    """One deliberately broken stack, and which tests of the suite must fail, for what reason.

    `kills` maps each expected test id to the (hop, kind) of the finding its failure must
    carry; every other test of the suite must pass (precision).
    """

    name: str
    breaks: str
    kills: Mapping[str, Kill] = field(default_factory=dict)
    overrides: Mapping[str, str] = field(default_factory=dict)
    backend_patches: tuple[Patch, ...] = ()
    dashboard_patch: Patch | None = None
    # A change to our Alloy config, run as ours (the suite reads no config of the user's:
    # the defect must be found at run time, as in production).
    alloy_patch: Patch | None = None
    # The kind of broken pipeline it is (contract.FAILURE_CLASSES): which alert rules tell
    # it apart from health is judged per class (alerts/coverage.py).
    failure_class: str = ""


def every(test_ids: Iterable[str], kill: Kill) -> dict[str, Kill]:
    """The same expected (hop, kind) for several tests."""
    return dict.fromkeys(test_ids, kill)


@dataclass(frozen=True)
class Catalog:
    """The variants the harness runs, the deviations real backends have (run by
    e2e/test_deviations.py), and the suite tests no stack variant can kill, with why."""

    harness: tuple[Variant, ...]
    deviations: tuple[Variant, ...]
    unmutable: Mapping[str, str]
    path: Path = CATALOG_FILE

    def variant(self, name: str) -> Variant:
        """The harness variant called `name`."""
        return next(v for v in self.harness if v.name == name)


def load_catalog(path: Path = CATALOG_FILE) -> Catalog:
    """Read the catalog module (HARNESS, DEVIATIONS, UNMUTABLE) from `path`; the checks it
    names become test ids (checks.registry), and a name no check has is bad input."""
    spec = importlib.util.spec_from_file_location("scanium_e2e_mutation_catalog", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise ConfigurationError(f"mutation catalog {path} not found (a checkout's e2e/).")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        return Catalog(
            harness=tuple(_by_test_id(variant) for variant in module.HARNESS),
            deviations=tuple(_by_test_id(variant) for variant in module.DEVIATIONS),
            unmutable={resolve(ref): reason for ref, reason in module.UNMUTABLE.items()},
            path=path,
        )
    except KeyError as exc:
        raise ConfigurationError(f"mutation catalog {path}: {exc.args[0]}.") from None


def _by_test_id(variant: Variant) -> Variant:
    """The variant with its kills keyed by test id (the catalog names checks)."""
    kills = {resolve(ref): kill for ref, kill in variant.kills.items()}
    return dataclasses.replace(variant, kills=kills)


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N` (1 <= K <= N) -> (K, N); anything else is bad input."""
    left, sep, right = text.partition("/")
    if sep and left.strip().isdigit() and right.strip().isdigit():
        k, n = int(left), int(right)
        if 1 <= k <= n:
            return k, n
    raise ConfigurationError(
        f"--shard {text!r} is not K/N with 1 <= K <= N (for example 2/4: the second of four "
        "shards)."
    )


def shard(variants: Sequence[Variant], k: int, n: int) -> tuple[Variant, ...]:
    """The K-th of N deterministic shares: every N-th variant in catalog order, from the
    K-th. The shares of 1/N..N/N are disjoint and cover every variant."""
    return tuple(variant for index, variant in enumerate(variants) if index % n == k - 1)


def apply_patch(patch: Patch, folder: Path) -> None:
    """Apply `patch` to its file under `folder`; a patch that no longer applies is named."""
    path = folder / patch.file
    text = path.read_text(encoding="utf-8")
    if text.count(patch.old) != 1:
        raise ConfigurationError(
            f"mutation patch for {patch.file} no longer applies: {patch.old!r} occurs "
            f"{text.count(patch.old)} times (the fixture changed; update e2e/mutation_catalog.py)."
        )
    path.write_text(text.replace(patch.old, patch.new), encoding="utf-8")


@contextmanager
def prepared(variant: Variant) -> Iterator[tuple[list[Path], Path]]:
    """Temporary patched copies: an extra compose file mounting them (the backend's source,
    our Alloy config), and the dashboard."""
    folder = Path(tempfile.mkdtemp(prefix=f"scanium-mutation-{variant.name}-"))
    try:
        compose_files: list[Path] = []
        mounts: dict[str, str] = {}
        if variant.backend_patches:
            source = folder / "scanium_backend"
            shutil.copytree(BACKEND_SOURCE, source, ignore=shutil.ignore_patterns("__pycache__"))
            for patch in variant.backend_patches:
                apply_patch(patch, source)
            mounts["backend"] = f"{source}:/app/scanium_backend:ro"
        if variant.alloy_patch:
            config = folder / ALLOY_CONFIG.name
            shutil.copy(ALLOY_CONFIG, config)
            apply_patch(variant.alloy_patch, folder)
            mounts["alloy"] = f"{config}:/etc/alloy/config.alloy:ro"
        if mounts:
            # The containers run as unprivileged users: the copies must be world-readable.
            for path in [folder, *folder.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)
            override = folder / "compose.mutation.yml"
            services = "".join(
                f"  {service}:\n    volumes:\n      - {mount}\n"
                for service, mount in mounts.items()
            )
            override.write_text(f"services:\n{services}", encoding="utf-8")
            compose_files.append(override)
        dashboard = DASHBOARD
        if variant.dashboard_patch:
            dashboard = folder / DASHBOARD.name
            shutil.copy(DASHBOARD, dashboard)
            apply_patch(variant.dashboard_patch, folder)
        yield compose_files, dashboard
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# The finding kind of a wait that reached its deadline (findings.Kind.UNDECIDED).
UNDECIDED = str(Kind.UNDECIDED)
KILLED = "killed"
IMPRECISE = "killed, imprecise"
SURVIVED = "survived"


@dataclass(frozen=True)
class VariantResult:
    """How one variant fared: the suite's run against it, judged against `kills`."""

    variant: Variant
    outcome: Outcome
    # expected test id -> what it saw instead of the expected failure
    missed: dict[str, str]
    # failed test ids outside the expected set
    collateral: list[str]
    seconds: float
    # What `after_suite` reported on the variant's stack (the alert rules' states), or the
    # error that kept it from reporting; None without one.
    report: object = None

    @property
    def verdict(self) -> str:
        """killed (precisely), killed, imprecise, or survived."""
        if self.missed or self.outcome.code != 1:
            return SURVIVED
        return IMPRECISE if self.collateral else KILLED

    def sentence(self) -> str:
        """What happened to the variant, in one sentence that names the first reason it is
        not killed precisely (the failure's first line; the table follows it)."""
        name = f"variant `{self.variant.name}` ({self.variant.breaks})"
        if "pytest" in self.missed:
            return f"{name} survived: the suite's run ended with {self.missed['pytest'][:200]}"
        if self.missed:
            test_id, seen = next(iter(sorted(self.missed.items())))
            more = f" (and {len(self.missed) - 1} more)" if len(self.missed) > 1 else ""
            seen = "was not run" if seen == "not run" else seen
            return f"{name} survived: {test_id} was expected to fail; it {seen[:200]}{more}"
        if self.outcome.code != 1:
            return f"{name} survived: the suite exited {self.outcome.code}, not 1"
        if self.collateral:
            test_id = self.collateral[0]
            more = f" (and {len(self.collateral) - 1} more)" if len(self.collateral) > 1 else ""
            first = (self.outcome.failed[test_id].splitlines() or [""])[0]
            return (
                f"{name} is killed, but {test_id} failed too, outside its expected set"
                f"{more}: {first[:200]}"
            )
        return f"{name} is killed precisely"

    @property
    def failed(self) -> list[str]:
        """Every test id that failed in the variant's run."""
        return sorted(self.outcome.failed)

    @property
    def deadline_reached(self) -> list[str]:
        """The tests whose wait reached its deadline (their failure is `undecided`): a
        variant's answer must be final long before the deadline, so any is a defect."""
        return sorted(
            test_id
            for test_id, refs in self.outcome.findings.items()
            if any(ref.kind == UNDECIDED for ref in refs)
        )

    def as_dict(self) -> dict[str, object]:
        """The row, as data (`--json`, and what `merge` reads back)."""
        return {
            "variant": self.variant.name,
            "breaks": self.variant.breaks,
            "expected": sorted(self.variant.kills),
            "failed": self.failed,
            "verdict": self.verdict,
            "seconds": round(self.seconds, 1),
            "pytest_exit": self.outcome.code,
            "missed": self.missed,
            "collateral": {i: self.outcome.failed[i] for i in self.collateral},
            "deadline_reached": self.deadline_reached,
            # The run's slowest test (a session wait counts in its first test's setup).
            "slowest": dict([self.outcome.slowest]) if self.outcome.durations else {},
            # Each failed test's first line: what a person reads for the kill.
            "first_lines": dict(sorted(self.outcome.failed.items())),
        }


def judge(variant: Variant, outcome: Outcome, seconds: float) -> VariantResult:
    """Killed: exit 1, every expected test failed with the expected (hop, kind) among its
    findings; precise: nothing else failed."""
    missed: dict[str, str] = {}
    for test_id, kill in variant.kills.items():
        if test_id not in outcome.failed:
            seen = "passed" if test_id in outcome.passed else "not run"
            if test_id in outcome.xfailed:
                seen = f"xfailed: {outcome.xfailed[test_id]}"
            missed[test_id] = seen
            continue
        keys = [ref.key() for ref in outcome.findings.get(test_id, ())]
        if kill not in keys:
            missed[test_id] = (
                f"failed with findings {keys or 'none'}, not {kill}: {outcome.failed[test_id]}"
            )
    if outcome.code not in (0, 1):
        missed["pytest"] = f"exit {outcome.code}: {outcome.output.strip()[-600:]}"
    collateral = sorted(set(outcome.failed) - set(variant.kills))
    return VariantResult(variant, outcome, missed, collateral, seconds)


# Reports on a variant's stack once the suite ran against it (the alert rules' states).
AfterSuite = Callable[[ComposeStack, Variant], object]


def run_variant(
    settings: Settings,
    variant: Variant,
    masker: Masker,
    folder: Path,
    after_suite: AfterSuite | None = None,
) -> VariantResult:
    """Start the variant's stack, run the real suite attached to it, and judge the result;
    `after_suite` reports on the stack before it is removed (report only: its error is kept
    as its report, never a verdict)."""
    began = time.monotonic()
    report: object = None
    with (
        prepared(variant) as (compose_files, dashboard),
        variant_stack(
            settings, f"mut-{variant.name}", variant.overrides, masker, compose_files
        ) as stack,
    ):
        # A patched dashboard is the one the suite replays (`--scanium-dashboards`).
        extra = (f"--scanium-dashboards={dashboard}",) if variant.dashboard_patch else ()
        outcome = run_pytest(SUITE_FILES, folder, attach_environment(stack), *extra)
        seconds = time.monotonic() - began
        if after_suite is not None:
            try:
                report = after_suite(stack, variant)
            except Exception as exc:  # report only: said in the report, never a verdict
                report = exc
    return dataclasses.replace(judge(variant, outcome, seconds), report=report)


def run_variants(
    settings: Settings,
    variants: Sequence[Variant],
    masker: Masker,
    root: Path,
    *,
    workers: int = 3,
    progress: Callable[[VariantResult], None] | None = None,
    after_suite: AfterSuite | None = None,
) -> list[VariantResult]:
    """Every variant in a pool of `workers` (each starts its stack, runs the suite, stops)."""

    def one(variant: Variant) -> VariantResult:
        result = run_variant(settings, variant, masker, root / variant.name, after_suite)
        if progress is not None:
            progress(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(one, variants))


Row = Mapping[str, object]


def unkilled(
    expected: Iterable[str], suite_ids: Iterable[str], unmutable: Mapping[str, str]
) -> dict[str, str]:
    """Suite test ids no variant expects to kill (`expected`: every variant's kills) ->
    why none can."""
    wanted = set(expected)
    return {
        test_id: unmutable.get(test_id, "no variant kills it")
        for test_id in sorted(suite_ids)
        if test_id not in wanted
    }


def _strings(row: Row, key: str) -> list[str]:
    value = row.get(key, [])
    return [str(item) for item in value] if isinstance(value, list | dict) else []


def _texts(row: Row, key: str) -> dict[str, str]:
    value = row.get(key, {})
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _numbers(row: Row, key: str) -> dict[str, float]:
    value = row.get(key, {})
    if not isinstance(value, dict):
        return {}
    return {str(k): float(v) for k, v in value.items() if isinstance(v, int | float)}


def table(rows: Sequence[Row], suite_ids: Iterable[str], unmutable: Mapping[str, str]) -> str:
    """The coverage table from result rows (`VariantResult.as_dict`): variant x expected x
    failed x verdict x seconds, then the suite's test ids no variant kills, then
    `killed N/M precisely`."""
    lines = [f"{'variant':<26} {'expected':>8} {'failed':>6}  {'verdict':<18} {'seconds':>7}"]
    for row in rows:
        seconds = row.get("seconds", 0.0)
        lines.append(
            f"{row['variant']!s:<26} {len(_strings(row, 'expected')):>8} "
            f"{len(_strings(row, 'failed')):>6}  {row['verdict']!s:<18} "
            f"{float(seconds) if isinstance(seconds, int | float) else 0.0:>7.1f}"
        )
        for test_id, seen in _texts(row, "missed").items():
            lines.append(f"    missed {test_id}: {seen[:300]}")
        for test_id, failure in _texts(row, "collateral").items():
            lines.append(f"    collateral {test_id}: {failure[:200]}")
        reached = _strings(row, "deadline_reached")
        if reached:
            lines.append(f"    a wait reached its deadline (undecided): {', '.join(reached)}")
    slowest = [
        (float(seconds), str(row["variant"]), test_id)
        for row in rows
        for test_id, seconds in _numbers(row, "slowest").items()
    ]
    if slowest:
        seconds, variant, test_id = max(slowest)
        lines.append(f"slowest test of any variant: {seconds:.1f} s ({variant}: {test_id})")
    expected = [test_id for row in rows for test_id in _strings(row, "expected")]
    rest = unkilled(expected, suite_ids, unmutable)
    lines.append(f"suite tests no variant kills: {len(rest) or 'none'}")
    lines.extend(f"    {test_id}: {reason}" for test_id, reason in rest.items())
    killed = sum(row["verdict"] == KILLED for row in rows)
    lines.append(f"killed {killed}/{len(rows)} precisely")
    return "\n".join(lines)


@dataclass(frozen=True)
class Coverage:
    """Results as rows (`VariantResult.as_dict`) with the suite's test ids: one run, a
    shard, or shards merged (`missing`: the catalog's variants no shard ran)."""

    rows: tuple[Row, ...]
    suite_ids: tuple[str, ...]
    missing: tuple[str, ...] = ()

    @classmethod
    def of(cls, results: Sequence[VariantResult]) -> Coverage:
        """The coverage of a run's results, in the order they came."""
        ids = sorted({test_id for result in results for test_id in result.outcome.ids})
        return cls(tuple(result.as_dict() for result in results), tuple(ids))

    @property
    def all_killed(self) -> bool:
        """Every variant ran (none missing) and was killed precisely."""
        return not self.missing and all(row["verdict"] == KILLED for row in self.rows)

    def table(self, unmutable: Mapping[str, str]) -> str:
        """The coverage table (`table`)."""
        return table(self.rows, self.suite_ids, unmutable)

    def as_json(self, unmutable: Mapping[str, str], shard_of: str = "1/1") -> dict[str, object]:
        """As data: the rows, the suite's test ids, what no variant kills, and which shard of
        the catalog this was (what `merge` reads back)."""
        expected = [test_id for row in self.rows for test_id in _strings(row, "expected")]
        return {
            "shard": shard_of,
            "variants": list(self.rows),
            "suite_ids": list(self.suite_ids),
            "unkilled": unkilled(expected, self.suite_ids, unmutable),
        }


def merge(paths: Sequence[Path], catalog: Catalog) -> Coverage:
    """Read the shards' JSON (`selftest --json`) and put them together; a file that is not
    such JSON, or a variant two shards both ran, is bad input naming the file."""
    rows: dict[str, Row] = {}
    ids: set[str] = set()
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            variants = data["variants"]
            suite_ids = data["suite_ids"]
            if not isinstance(variants, list) or not isinstance(suite_ids, list):
                raise TypeError("variants and suite_ids must be lists")
            for row in variants:
                name = str(row["variant"])
                if name in rows:
                    raise ConfigurationError(
                        f"{path}: variant {name!r} is also in another shard's results; "
                        "merge each shard's JSON once."
                    )
                if not isinstance(row["verdict"], str):
                    raise TypeError(f"variant {name!r} has no verdict")
                rows[name] = row
        except ConfigurationError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(
                f"{path} is not the JSON `scanium-e2e selftest --json` writes "
                f"({type(exc).__name__}: {exc})."
            ) from None
        ids.update(str(test_id) for test_id in suite_ids)
    order = [variant.name for variant in catalog.harness]
    ranked = sorted(rows.values(), key=lambda row: _rank(order, str(row["variant"])))
    missing = tuple(name for name in order if name not in rows)
    return Coverage(tuple(ranked), tuple(sorted(ids)), missing)


def _rank(order: list[str], name: str) -> tuple[int, str]:
    return (order.index(name) if name in order else len(order), name)
