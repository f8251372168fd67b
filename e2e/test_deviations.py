"""Deviations real backends have, proved: the suite runs in external mode against variants
of the reference backend (e2e/mutation_catalog.py DEVIATIONS, started with the session's stack) and
exactly the checks of the deviation fail, each naming it in its first line; with a
contract copy that accepts the deviation the same run passes, reporting "accepted by
contract". The dashboard runs too: each panel's test fails for its own panel only, so a
deviation fails exactly the panels whose queries read the series it leaves out (derived
from the dashboard JSON), each naming the metric; a contract accepting "no error counter"
lists those panels in `dashboards.allow_empty` (waived, "accepted by contract"), since a
person opening the dashboard still sees "No data" there.

These are proofs of the suite, not of the pipeline: like the mutation harness they start
stacks of their own and run only with `--scanium-mutations` (CI and the nightly gate set it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from scanium_e2e.checks.registry import check_of
from scanium_e2e.contract import load_contract
from scanium_e2e.dashboards import Panel, load_dashboard
from scanium_e2e.session.traffic import session_plan
from scanium_e2e.settings import REPO_ROOT, Settings
from scanium_e2e.stack.compose import ComposeStack
from scanium_e2e.stack.external import external_environment
from scanium_e2e.suite_run import Outcome, run_pytest

pytestmark = [pytest.mark.late, pytest.mark.mutation]

# The families the deviations touch, and the ones they must leave alone.
FILES = (
    "e2e/test_requests.py",
    "e2e/test_latency.py",
    "e2e/test_tokens.py",
    "e2e/test_errors.py",
    "e2e/test_scrape_health.py",
    "e2e/test_no_secrets.py",
    "e2e/test_dashboards.py",
)
REQUESTS = "e2e.test_requests::test_request_counts_equal_the_ledger"
LATENCY = "e2e.test_latency::test_latency_count_equals_the_ledger"
ERRORS = "e2e.test_errors::test_errors_total_counts_each_injected_fault"
ERROR_LABELS = "e2e.test_errors::test_error_labels_name_each_injected_fault"
ERRORS_METRIC = "scanium_assistant_errors_total"
DASHBOARD = REPO_ROOT / "fixtures" / "grafana" / "dashboards" / "openai-runtime.json"


def panels_over(metric: str) -> dict[str, Panel]:
    """The dashboard's panel tests whose queries read `metric`: test id -> panel."""
    return {
        f"e2e.test_dashboards::test_panel_has_data[{panel.id}-{panel.title}]": panel
        for panel in load_dashboard(DASHBOARD).panels
        if any(re.search(rf"\b{metric}\b", target.expr) for target in panel.targets)
    }


ERROR_PANELS = panels_over(ERRORS_METRIC)
# The reason an accepting contract gives for each error panel it allows empty.
NO_COUNTER_REASON = f"the backend has no {ERRORS_METRIC}: its panels show no data"


# The only skips an external run may have: what only a local stack allows.


def run_suite(
    stack: ComposeStack, settings: Settings, folder: Path, env_extra: dict[str, str]
) -> Outcome:
    """`pytest <FILES> --scanium-stack=external` against `stack`, read back from its JUnit file."""
    env = {
        **external_environment(
            stack.endpoints,
            api_key=stack.settings.api_key,
            run_id=f"{stack.settings.run_id}-{folder.name}",
        ),
        **env_extra,
    }
    return run_pytest(FILES, folder, env, "--scanium-stack=external")


def accepting_contract(
    folder: Path, allow_empty: dict[str, str] | None = None, **failures: object
) -> Path:
    """A copy of the default contract whose `failures` (and `dashboards.allow_empty`)
    accept a deviation."""
    data = json.loads((REPO_ROOT / "fixtures" / "contract.json").read_text(encoding="utf-8"))
    data["failures"] = {**data["failures"], **failures}
    data["dashboards"] = {"allow_empty": allow_empty or {}}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "contract.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


EnvOf = Callable[[Path], dict[str, str]]


def contract_env(allow_error_panels: bool = False, **failures: object) -> EnvOf:
    """A run with an accepting contract copy (written into the run's folder)."""
    allow = (
        {p.title: NO_COUNTER_REASON for p in ERROR_PANELS.values()} if allow_error_panels else {}
    )

    def env_of(folder: Path) -> dict[str, str]:
        path = accepting_contract(folder, allow, **failures)
        return {"SCANIUM_E2E_CONTRACT": str(path)}

    return env_of


RUNS: dict[str, list[tuple[str, EnvOf]]] = {
    "failures-as-success": [
        ("default", lambda folder: {}),
        ("accepted", contract_env(recorded_as="success")),
    ],
    "no-error-counter": [
        ("default", lambda folder: {}),
        ("accepted", contract_env(True, error_counter=False)),
        # A plan with zero faults expects zero of them: nothing about errors can fail.
        ("no-faults", lambda folder: {"SCANIUM_E2E_TRAFFIC_ERRORS": "0"}),
    ],
    "success-no-errors": [
        ("default", lambda folder: {}),
        ("accepted", contract_env(True, recorded_as="success", error_counter=False)),
        # Accepting the counting but not the empty panels: the dashboard still says so.
        ("panels-not-allowed", contract_env(recorded_as="success", error_counter=False)),
    ],
    # No contract accepts it: a cache label that says what did not happen.
    "cumulative-cache-label": [("default", lambda folder: {})],
}
ACCEPTABLE = sorted(
    name for name, runs in RUNS.items() if any(label == "accepted" for label, _ in runs)
)
CACHE_HIT = "e2e.test_requests::test_cache_hit_means_what_each_answer_said"


@pytest.fixture(scope="module")
def outcomes(
    deviation_stacks: dict[str, ComposeStack],
    settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[tuple[str, str], Outcome]:
    """Every run of RUNS: the stacks in parallel, each stack's runs one after another."""
    root = tmp_path_factory.mktemp("deviations")

    def runs_of(name: str) -> dict[tuple[str, str], Outcome]:
        done = {}
        for label, env_of in RUNS[name]:
            folder = root / name / label
            done[(name, label)] = run_suite(
                deviation_stacks[name], settings, folder, env_of(folder)
            )
        return done

    with ThreadPoolExecutor(max_workers=len(RUNS)) as pool:
        results: dict[tuple[str, str], Outcome] = {}
        for future in [pool.submit(runs_of, name) for name in RUNS]:
            results.update(future.result())
    return results


def _report(outcome: Outcome, record_property: Callable[[str, object], None]) -> str:
    record_property("wall_time_s", round(outcome.seconds, 1))
    record_property("failed", json.dumps(outcome.failed))
    if outcome.xfailed:
        record_property("xfailed", json.dumps(outcome.xfailed))
    return outcome.output[-4000:]


def injected_failures() -> int:
    """How many LLM failures an external run injects: its session plan under the default
    contract (every fault kind the contract maps at least once), from the same environment
    the runs inherit."""
    settings = Settings.from_env()
    return session_plan(settings, load_contract(settings.contract_file)).provider_errors


INJECTED = injected_failures()


def _as_success(metric: str) -> str:
    return (
        f"{INJECTED} injected LLM failures were counted as status=success in `{metric}`, "
        "where the contract puts them under status=error."
    )


STATUS_CHECKS = {
    REQUESTS: _as_success("scanium_assistant_requests_total"),
    LATENCY: _as_success("scanium_assistant_request_latency_ms_count"),
}


def _assert_status_checks(outcome: Outcome, tail: str) -> None:
    for test_id, line in STATUS_CHECKS.items():
        assert outcome.failed[test_id] == line, tail
        # JUnit's message (and pytest's summary line) is the deviation's sentence, after
        # the hop that found it.
        assert outcome.messages[test_id].endswith(": " + line.removesuffix(".")), tail


def _assert_error_checks(outcome: Outcome, tail: str) -> None:
    for test_id in (ERRORS, ERROR_LABELS):
        reason = outcome.failed[test_id]
        assert reason.startswith(f"{ERRORS_METRIC} was never created: http"), tail
        assert "while its siblings scanium_assistant_requests_total" in reason, tail


def _assert_error_panels(outcome: Outcome, tail: str) -> None:
    """Each error panel fails on its own, its first line naming the panel and the metric
    the store never saw."""
    for test_id, panel in ERROR_PANELS.items():
        first = outcome.failed[test_id]
        assert first.startswith(f"panel {panel.id} {panel.title}: empty: "), tail
        assert f"; `{ERRORS_METRIC}`: metric never seen between " in first, tail


def _assert_only_local_skips(outcome: Outcome, tail: str) -> None:
    """The external run skipped only checks that need what a deployment cannot give
    (checks/registry.py), whatever their skip says."""
    checks = {test_id: check_of(test_id) for test_id in outcome.skipped}
    unexpected = {
        t: outcome.skipped[t] for t, check in checks.items() if not (check and check.local_only)
    }
    assert not unexpected, f"{unexpected}\n{tail}"


def test_the_dashboard_has_panels_over_the_error_counter() -> None:
    """The panels a missing error counter empties, found in the JSON: Error Rate and
    Errors by Type (if this changes, the expectations below follow the JSON)."""
    assert {p.title for p in ERROR_PANELS.values()} == {"Error Rate", "Errors by Type"}


def test_failures_counted_as_success_fail_the_status_checks_only(
    outcomes: dict[tuple[str, str], Outcome], record_property: Callable[[str, object], None]
) -> None:
    """Faults counted as successes: the two checks by status fail, naming it; nothing else
    (the dashboard has no panel by status=error: every panel has data)."""
    outcome = outcomes[("failures-as-success", "default")]
    tail = _report(outcome, record_property)
    assert outcome.code == 1, tail
    assert set(outcome.failed) == set(STATUS_CHECKS), tail
    _assert_status_checks(outcome, tail)
    _assert_only_local_skips(outcome, tail)
    assert outcome.seconds < 60, f"took {outcome.seconds:.1f}s: the wait did not end at once"


def test_an_error_counter_never_created_fails_the_error_checks_and_panels_only(
    outcomes: dict[tuple[str, str], Outcome], record_property: Callable[[str, object], None]
) -> None:
    """No errors counter: the two error checks and the panels over it fail, naming the
    metric; nothing else."""
    outcome = outcomes[("no-error-counter", "default")]
    tail = _report(outcome, record_property)
    assert outcome.code == 1, tail
    assert set(outcome.failed) == {ERRORS, ERROR_LABELS, *ERROR_PANELS}, tail
    _assert_error_checks(outcome, tail)
    _assert_error_panels(outcome, tail)
    _assert_only_local_skips(outcome, tail)
    assert outcome.seconds < 60, f"took {outcome.seconds:.1f}s: the wait did not end at once"


def test_a_fallback_counted_as_success_without_error_counter_fails_both(
    outcomes: dict[tuple[str, str], Outcome], record_property: Callable[[str, object], None]
) -> None:
    """Both at once (what users meet): the status checks, the error checks and the error
    panels fail, and the first lines name both facts."""
    outcome = outcomes[("success-no-errors", "default")]
    tail = _report(outcome, record_property)
    assert outcome.code == 1, tail
    assert set(outcome.failed) == {*STATUS_CHECKS, ERRORS, ERROR_LABELS, *ERROR_PANELS}, tail
    _assert_status_checks(outcome, tail)
    _assert_error_checks(outcome, tail)
    _assert_error_panels(outcome, tail)
    _assert_only_local_skips(outcome, tail)
    assert outcome.seconds < 60, f"took {outcome.seconds:.1f}s: the wait did not end at once"


@pytest.mark.parametrize("name", ACCEPTABLE)
def test_a_contract_that_accepts_the_deviation_passes_saying_so(
    outcomes: dict[tuple[str, str], Outcome],
    name: str,
    record_property: Callable[[str, object], None],
) -> None:
    """With the deviation accepted in a contract copy: no failure, and "accepted by contract"
    lines in the summary (an xfail for each waived criterion, the error checks and the
    error panels allowed empty), never a silent skip."""
    outcome = outcomes[(name, "accepted")]
    tail = _report(outcome, record_property)
    assert outcome.code == 0 and not outcome.failed, tail
    assert "accepted by contract" in outcome.output, tail
    if name == "failures-as-success":
        assert not outcome.xfailed, tail
    else:
        assert set(outcome.xfailed) == {ERRORS, ERROR_LABELS, *ERROR_PANELS}, tail
        assert all(r.startswith("accepted by contract:") for r in outcome.xfailed.values()), tail
        for test_id in ERROR_PANELS:
            assert NO_COUNTER_REASON in outcome.xfailed[test_id], tail
    if name != "no-error-counter":
        assert f"{INJECTED} injected LLM failures were counted as status=success" in (
            outcome.output
        ), tail
    _assert_only_local_skips(outcome, tail)


def test_accepting_the_counting_does_not_accept_empty_panels(
    outcomes: dict[tuple[str, str], Outcome], record_property: Callable[[str, object], None]
) -> None:
    """failures.error_counter=false waives the error checks, not the dashboard: a person
    still sees "No data" on the error panels, so they fail unless `allow_empty` lists them."""
    outcome = outcomes[("success-no-errors", "panels-not-allowed")]
    tail = _report(outcome, record_property)
    assert outcome.code == 1, tail
    assert set(outcome.failed) == set(ERROR_PANELS), tail
    _assert_error_panels(outcome, tail)
    assert set(outcome.xfailed) == {ERRORS, ERROR_LABELS}, tail


def test_a_plan_without_faults_demands_no_error(
    outcomes: dict[tuple[str, str], Outcome], record_property: Callable[[str, object], None]
) -> None:
    """SCANIUM_E2E_TRAFFIC_ERRORS=0: no check asks for a status or an error it never caused;
    the error panels, with nothing to show, say so (xfail naming the metric)."""
    outcome = outcomes[("no-error-counter", "no-faults")]
    tail = _report(outcome, record_property)
    assert outcome.code == 0 and not outcome.failed, tail
    assert set(outcome.xfailed) == set(ERROR_PANELS), tail
    for test_id in ERROR_PANELS:
        assert "the plan sent no LLM fault" in outcome.xfailed[test_id], tail
        assert "scanium_assistant_errors_total" in outcome.xfailed[test_id], tail


def test_a_cumulative_cache_label_fails_the_cache_split_only_at_once_naming_the_pattern(
    outcomes: dict[tuple[str, str], Outcome], record_property: Callable[[str, object], None]
) -> None:
    """Scanium's cumulative cache_hit against a deployment: the split must only reach the
    plan's there (others add traffic), yet its own requests are counted as hits. Final on
    the first scrape after the traffic, naming the pattern: not the data deadline's
    "may still be on its way"."""
    outcome = outcomes[("cumulative-cache-label", "default")]
    tail = _report(outcome, record_property)
    assert outcome.code == 1, tail
    assert set(outcome.failed) == {CACHE_HIT}, tail
    first = outcome.failed[CACHE_HIT]
    assert "`scanium_assistant_requests_total` counted " in first, tail
    assert "the pattern of a cumulative label: every request answered after the first cache " in (
        first
    ), tail
    _assert_only_local_skips(outcome, tail)
    assert outcome.seconds < 30, f"took {outcome.seconds:.1f}s: the wait did not end at once"
