"""Mutation harness: the real suite runs against every deliberately broken variant of the
stack (attached to it, in a subprocess) and must fail exactly the variant's expected tests,
each with the variant's expected hop and kind. Opt-in (`--scanium-mutations`; CI sets it): each
variant starts a stack.

The variants are those of e2e/mutation_catalog.py; `--scanium-shard K/N` runs a deterministic
share of them (a CI matrix spreads the harness over N runners). The session's terminal
summary shows the coverage table (scanium_e2e.mutation.table).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from scanium_e2e.alerts.coverage import ClassCoverage
from scanium_e2e.alerts.coverage import table as coverage_table
from scanium_e2e.alerts.coverage_run import (
    HEALTHY,
    StackRules,
    coverage_of,
    healthy_variant,
    judge_rules,
)
from scanium_e2e.alerts.judge import ScenarioVerdict
from scanium_e2e.alerts.report import document
from scanium_e2e.alerts.routing import load_routing
from scanium_e2e.alerts.scenarios import AlertInputs, load_inputs
from scanium_e2e.alerts.session import RULES, SCANIUM_LIKE, SCANIUM_LIKE_RULES, variants_report
from scanium_e2e.contract import Contract
from scanium_e2e.errors import CheckFailed
from scanium_e2e.findings import Kind
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
from scanium_e2e.options import scanium_flag
from scanium_e2e.secrets import Masker
from scanium_e2e.settings import Settings
from scanium_e2e.suite_plugin import (
    COVERAGE_PROPERTY,
    record_alert_coverage,
    record_section,
)

CATALOG = load_catalog()

pytestmark = [pytest.mark.late, pytest.mark.mutation]


@pytest.fixture(scope="module")
def rule_inputs(settings: Settings) -> dict[str, AlertInputs] | None:
    """The rule sets judged on each variant's stack and on a healthy one (which broken
    stacks does the alerting tell apart from health?): the user's, and rules shaped like
    Scanium's (the coverage proof); none with your own Alloy config, whose job the rules
    do not name."""
    if settings.own_alloy_config:
        return None
    return {
        RULES: load_inputs(settings.alert_rules, settings.datasources),
        SCANIUM_LIKE: load_inputs([SCANIUM_LIKE_RULES], []),
    }


@pytest.fixture(scope="module")
def runs(
    settings: Settings,
    masker: Masker,
    tmp_path_factory: pytest.TempPathFactory,
    pytestconfig: pytest.Config,
    rule_inputs: dict[str, AlertInputs] | None,
) -> list[VariantResult]:
    """Every variant's run, a few stacks at a time (with the alert rules, a healthy stack
    run the same way beside them); the table goes to the summary."""
    if settings.external_mode or settings.attached:
        pytest.skip("mutation variants are started locally; this mode starts nothing")
    root = tmp_path_factory.mktemp("mutations")
    chosen = sharded(pytestconfig)
    if rule_inputs is None:
        return run_variants(settings, chosen, masker, root)
    config = settings.alertmanager_config
    routing = load_routing(config) if config is not None else None
    after = judge_rules(settings, rule_inputs, routing)
    healthy = healthy_variant(routed=routing is not None)
    done = run_variants(settings, (healthy, *chosen), masker, root, after_suite=after)
    verdicts = [r.report.verdicts[RULES] for r in done if isinstance(r.report, StackRules)]
    record_section(
        pytestconfig, "alert rules on the mutation variants", _rules_report(verdicts, done)
    )
    path = settings.artifacts_dir / settings.run_id / "alerts-mutations.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(masker.mask(json.dumps(document(verdicts), indent=2)), encoding="utf-8")
    return done


@pytest.fixture(scope="module")
def results(runs: list[VariantResult], pytestconfig: pytest.Config) -> dict[str, VariantResult]:
    """The broken variants' runs (not the healthy stack's), by name."""
    done = [result for result in runs if result.variant.name != HEALTHY]
    record_section(pytestconfig, "mutation harness", Coverage.of(done).table(CATALOG.unmutable))
    return {result.variant.name: result for result in done}


def _rules_report(verdicts: list[ScenarioVerdict], done: list[VariantResult]) -> str:
    """Which alerting rules hold on each stack; a stack not judged says why."""
    lines = [variants_report(verdicts)] if verdicts else []
    lines.extend(
        f"{r.variant.name}: not judged: {r.report}" for r in done if isinstance(r.report, Exception)
    )
    return "\n".join(lines)


@pytest.fixture(scope="module")
def alert_coverage(
    runs: list[VariantResult],
    rule_inputs: dict[str, AlertInputs] | None,
    contract: Contract,
    settings: Settings,
    masker: Masker,
    pytestconfig: pytest.Config,
    record_testsuite_property: Callable[[str, object], None],
) -> dict[str, list[ClassCoverage]]:
    """Per rule set, which rules tell each failure class apart from health. The user's
    table goes to the summary, the JUnit report and the verdict JSON, with the route of
    each noticing rule's alert when an Alertmanager config is given."""
    if rule_inputs is None:
        pytest.skip("alert coverage needs our Alloy config: the rules name its job")
    found: dict[str, list[ClassCoverage]] = {}
    for name in rule_inputs:
        classes = coverage_of(runs, name, contract)
        if classes is None:
            healthy = next(r for r in runs if r.variant.name == HEALTHY)
            raise CheckFailed(
                f"the healthy stack's alert rules could not be read: {healthy.report}"
            )
        found[name] = classes
    ours = found[RULES]
    routed = settings.alertmanager_config is not None
    record_section(pytestconfig, "alert coverage", coverage_table(ours, routed=routed))
    data = [covered.as_dict() for covered in ours]
    record_testsuite_property(COVERAGE_PROPERTY, masker.mask(json.dumps(data)))
    record_alert_coverage(pytestconfig, data)
    return found


def _coverage_failure(classes: list[ClassCoverage]) -> None:
    findings = tuple(f for covered in classes if (f := covered.finding()) is not None)
    if findings:
        raise CheckFailed("\n".join(f.render() for f in findings), findings=findings)


def test_every_failure_class_pages_or_the_contract_says_why_not(
    alert_coverage: dict[str, list[ClassCoverage]],
) -> None:
    """Every class the contract says must page (`alerts.pages.must`) is noticed on each of
    its variants by a rule that holds there and not on the healthy stack; every other
    class has the contract's reason why it need not (`alerts.pages.need_not`)."""
    _coverage_failure(alert_coverage[RULES])


def test_the_coverage_names_what_scanium_like_rules_leave_unnoticed(
    alert_coverage: dict[str, list[ClassCoverage]],
) -> None:
    """Proof: rules shaped like Scanium's (`or vector(0)` Down rules, no rule on the
    backend's `up`) leave the must-page classes unnoticed, and their Down rules are named
    as noise, not coverage."""
    classes = {covered.name: covered for covered in alert_coverage[SCANIUM_LIKE]}
    unnoticed = {name for name, covered in classes.items() if covered.status == "unnoticed"}
    must = {name for name in classes if classes[name].must_page}
    assert unnoticed == must, {name: c.status for name, c in classes.items()}
    noise = {rule for covered in classes.values() for rule in covered.noise}
    assert {"AlloyDown", "MimirDown", "LokiDown", "TempoDown"} <= noise, noise
    for name in unnoticed:
        finding = classes[name].finding()
        assert finding is not None and finding.kind is Kind.CLASS_UNNOTICED
        assert "noise, not coverage" in finding.render(), finding.render()


def sharded(config: pytest.Config) -> tuple[Variant, ...]:
    """This session's share of the variants (`--scanium-shard K/N`, checked when the session is
    configured; all of them without it)."""
    text = config.getoption(scanium_flag("--shard"), default=None)
    k, n = parse_shard(str(text)) if text else (1, 1)
    return shard(CATALOG.harness, k, n)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per variant of this session's share: the others are not collected (a
    skipped variant would fail CI's --scanium-fail-on-skip)."""
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
    assert result.verdict == KILLED, (
        f"{result.sentence()}\n{table([result.as_dict()], [], CATALOG.unmutable)}"
    )


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
