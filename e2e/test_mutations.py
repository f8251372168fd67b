"""Mutation harness: the real suite runs against every deliberately broken variant of the
stack (attached to it, in a subprocess) and must fail exactly the variant's expected tests,
each with the variant's expected hop and kind. Opt-in (`--mutations`; CI sets it): each
variant starts a stack.

The variants are those of e2e/mutation_catalog.py; `--shard K/N` runs a deterministic
share of them (a CI matrix spreads the harness over N runners). The session's terminal
summary shows the coverage table (scanium_e2e.mutation.table).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from scanium_e2e.alerts.judge import ScenarioVerdict
from scanium_e2e.alerts.report import document
from scanium_e2e.alerts.scenarios import load_inputs
from scanium_e2e.alerts.session import judge_on_variant, variants_report
from scanium_e2e.mutation import (
    KILLED,
    Coverage,
    Variant,
    VariantResult,
    load_catalog,
    parse_shard,
    run_variants,
    shard,
    table,
    unkilled,
)
from scanium_e2e.pytest_plugin import record_section
from scanium_e2e.secrets import Masker
from scanium_e2e.settings import Settings
from scanium_e2e.stack.compose import ComposeStack

CATALOG = load_catalog()

pytestmark = [pytest.mark.late, pytest.mark.mutation]


@pytest.fixture(scope="module")
def results(
    settings: Settings,
    masker: Masker,
    tmp_path_factory: pytest.TempPathFactory,
    pytestconfig: pytest.Config,
) -> dict[str, VariantResult]:
    """Every variant's run, a few stacks at a time; the table goes to the summary."""
    if settings.external_mode or settings.attached:
        pytest.skip("mutation variants are started locally; this mode starts nothing")
    root = tmp_path_factory.mktemp("mutations")
    # The alert rules' states on each variant's stack (issue: which broken stacks does our
    # alerting notice?), reported beside the coverage table; not with your own Alloy config,
    # whose job the rules do not name.
    inputs = (
        None
        if settings.own_alloy_config
        else load_inputs(settings.alert_rules, settings.datasources)
    )

    def rules_on(stack: ComposeStack, variant: Variant) -> ScenarioVerdict | None:
        return judge_on_variant(stack, inputs, variant.name) if inputs is not None else None

    done = run_variants(settings, sharded(pytestconfig), masker, root, after_suite=rules_on)
    record_section(pytestconfig, "mutation harness", Coverage.of(done).table(CATALOG.unmutable))
    if inputs is not None:
        verdicts = [r.report for r in done if isinstance(r.report, ScenarioVerdict)]
        report = _rules_report(verdicts, done)
        record_section(pytestconfig, "alert rules on the mutation variants", report)
        path = settings.artifacts_dir / settings.run_id / "alerts-mutations.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(masker.mask(json.dumps(document(verdicts), indent=2)), encoding="utf-8")
    return {result.variant.name: result for result in done}


def _rules_report(verdicts: list[ScenarioVerdict], done: list[VariantResult]) -> str:
    """Which alerting rules hold on each variant's stack; a variant not judged says why."""
    lines = [variants_report(verdicts)] if verdicts else []
    lines.extend(
        f"{r.variant.name}: not judged: {r.report}" for r in done if isinstance(r.report, Exception)
    )
    return "\n".join(lines)


def sharded(config: pytest.Config) -> tuple[Variant, ...]:
    """This session's share of the variants (`--shard K/N`, checked when the session is
    configured; all of them without it)."""
    text = config.getoption("--shard", default=None)
    k, n = parse_shard(str(text)) if text else (1, 1)
    return shard(CATALOG.harness, k, n)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per variant of this session's share: the others are not collected (a
    skipped variant would fail CI's --fail-on-skip)."""
    if "variant" in metafunc.fixturenames:
        chosen = sharded(metafunc.config)
        metafunc.parametrize("variant", chosen, ids=[variant.name for variant in chosen])


def test_variant_is_killed_precisely(
    results: dict[str, VariantResult],
    variant: Variant,
    record_property: Callable[[str, object], None],
) -> None:
    """The suite fails against the variant: exactly its expected tests, each for its reason."""
    result = results[variant.name]
    record_property("verdict", result.verdict)
    record_property("seconds", round(result.seconds, 1))
    assert result.verdict == KILLED, table([result.as_dict()], [], CATALOG.unmutable)


def test_no_wait_of_any_variant_reaches_its_deadline(results: dict[str, VariantResult]) -> None:
    """Finality: every wait of the suite ends when its answer is final, so no variant's
    run has a test whose wait reached the data deadline (reported `undecided`)."""
    reached = {name: r.deadline_reached for name, r in results.items() if r.deadline_reached}
    assert not reached, reached


def test_every_suite_test_is_some_variant_s_kill(results: dict[str, VariantResult]) -> None:
    """No test of the suite is left that no variant kills, except those that cannot be
    (across the whole catalog: a shard runs only some variants, but every variant's
    expectations name the tests it must kill)."""
    ids = sorted({test_id for result in results.values() for test_id in result.outcome.ids})
    assert ids, "no variant's run reported any test"
    expected = [test_id for variant in CATALOG.harness for test_id in variant.kills]
    rest = unkilled(expected, ids, CATALOG.unmutable)
    assert set(rest) <= set(CATALOG.unmutable), rest
