"""The one home of what a run must add to each metric: `scanium_e2e.expectations`.

The checks judge by it and `scanium-e2e traffic` prints it; these tests pin its arithmetic
under contracts other than Scanium's and keep it below the checks.
"""

from __future__ import annotations

import ast

from scanium_e2e import expectations
from scanium_e2e.checks import expectations as checks_expectations
from scanium_e2e.contract import FailureAccounting, Statuses, load_contract
from scanium_e2e.expectations import ExpectedIncrease, expected_increases, planned_counts
from scanium_e2e.settings import REPO_ROOT
from scanium_e2e.traffic import Ledger, LedgerEntry

CONTRACT = load_contract(REPO_ROOT / "fixtures" / "contract.json")
SRC = REPO_ROOT / "src" / "scanium_e2e"


def entry(seq: int, kind: str, fault: str | None = None) -> LedgerEntry:
    """One request as the ledger keeps it; the answer is irrelevant to the expectations."""
    return LedgerEntry(
        seq=seq, kind=kind, case=kind, nonce=f"n{seq}", fault=fault,  # type: ignore[arg-type]
        planned_input_tokens=120 if kind == "success" else None,
        planned_output_tokens=45 if kind == "success" else None, http_status=200, code="",
        error_type="", assistant_error=kind == "provider_error", from_cache=False,
        latency_ms=1.0, retries=0, sent_at=0.0,
    )  # fmt: skip


def ledger() -> Ledger:
    """Two successes, a cache repeat, faults 500 and 503, a rejected request."""
    run = Ledger(run_id="r", provider="openai", base_url="http://x", started_at=0.0)
    kinds = [
        ("success", None),
        ("success", None),
        ("cache_repeat", None),
        ("provider_error", "500"),
        ("provider_error", "503"),
        ("validation_error", None),
    ]
    for seq, (kind, fault) in enumerate(kinds):
        run.record(entry(seq, kind, fault))
    return run


def test_the_checks_use_the_one_home() -> None:
    assert checks_expectations.planned_counts is expectations.planned_counts
    assert checks_expectations.COUNT_ROLES is expectations.COUNT_ROLES


def test_the_printout_names_the_contracts_series_in_order() -> None:
    lines = [(line.selector, line.increase) for line in expected_increases(ledger(), CONTRACT)]
    assert lines == [
        ('scanium_assistant_requests_total{provider="openai",status="success"}', 3.0),
        ('scanium_assistant_request_latency_ms_count{provider="openai",status="success"}', 3.0),
        ('scanium_assistant_requests_total{provider="openai",status="error"}', 2.0),
        ('scanium_assistant_request_latency_ms_count{provider="openai",status="error"}', 2.0),
        ('scanium_assistant_tokens_used_sum{provider="openai",token_type="input"}', 240.0),
        ('scanium_assistant_tokens_used_count{provider="openai",token_type="input"}', 2.0),
        ('scanium_assistant_tokens_used_sum{provider="openai",token_type="output"}', 90.0),
        ('scanium_assistant_tokens_used_count{provider="openai",token_type="output"}', 2.0),
        ('scanium_assistant_tokens_used_sum{provider="openai",token_type="total"}', 330.0),
        ('scanium_assistant_tokens_used_count{provider="openai",token_type="total"}', 2.0),
        ('scanium_assistant_errors_total{provider="openai",error_type="provider_error",'
         'reason_code="PROVIDER_SERVER_ERROR"}', 1.0),
        ('scanium_assistant_errors_total{provider="openai",error_type="provider_error",'
         'reason_code="PROVIDER_UNAVAILABLE"}', 1.0),
        ('scanium_http_requests_total{method="POST",route="/v1/assist/chat",status_code="200"}',
         6.0),
        ('scanium_http_request_duration_ms_count{method="POST",route="/v1/assist/chat",'
         'status_code="200"}', 6.0),
    ]  # fmt: skip


def test_another_contract_gets_its_own_names_statuses_and_accounting() -> None:
    names = {
        "requests": "acme_calls_total",
        "latency": "acme_call_seconds",
        "tokens": "acme_tokens",
        "errors": "acme_failures_total",
    }
    renamed = {
        role: CONTRACT.families[role].model_copy(update={"name": names[role]}) for role in names
    }
    other = CONTRACT.model_copy(
        update={
            "families": {**CONTRACT.families, **renamed},
            "statuses": Statuses(success="ok", error="failed"),
            "token_types": ("input",),
            "faults": {},
            # Without an `http` section the HTTP families are judged for their labels only.
            "http": None,
        }
    )
    selectors = [line.selector for line in expected_increases(ledger(), other)]
    assert selectors[:4] == [
        'acme_calls_total{provider="openai",status="ok"}',
        'acme_call_seconds_count{provider="openai",status="ok"}',
        'acme_calls_total{provider="openai",status="failed"}',
        'acme_call_seconds_count{provider="openai",status="failed"}',
    ]
    assert selectors[4:6] == [
        'acme_tokens_sum{provider="openai",token_type="input"}',
        'acme_tokens_count{provider="openai",token_type="input"}',
    ]
    # Without a `faults` map the error labels are the answers' (empty here), counted together.
    assert selectors[6:] == ['acme_failures_total{provider="openai",error_type="",reason_code=""}']
    assert not any("scanium" in selector for selector in selectors)

    uncounted = other.model_copy(
        update={"failures": FailureAccounting(recorded_as="not_recorded", error_counter=False)}
    )
    planned = planned_counts(ledger(), uncounted)
    assert planned["requests"] == {("openai", "ok"): 3.0}
    assert planned["errors"] == planned["errors_by_type"] == {}
    assert [line.metric for line in expected_increases(ledger(), uncounted)].count(
        "acme_failures_total"
    ) == 0


def test_the_summary_prints_what_it_is_given() -> None:
    run = ledger()
    assert "expected increase" not in run.summary()
    lines = expected_increases(run, CONTRACT)
    text = run.summary([(line.selector, line.increase) for line in lines])
    assert '  240  scanium_assistant_tokens_used_sum{provider="openai",token_type="input"}' in text
    assert "(nothing: the plan sent no request the assistant counts)" in run.summary([])
    assert ExpectedIncrease("m", (("a", "b"),), 2.0).to_json() == {
        "metric": "m",
        "labels": {"a": "b"},
        "increase": 2.0,
    }


def imports_of(path: str) -> set[str]:
    """Every absolute module `path` (relative to the package) imports."""
    tree = ast.parse((SRC / path).read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_home_sits_between_traffic_and_checks() -> None:
    own = {name for name in imports_of("expectations.py") if name.startswith("scanium_e2e")}
    assert own == {"scanium_e2e.contract", "scanium_e2e.traffic.ledger", "scanium_e2e.traffic.run"}
    for module in sorted((SRC / "traffic").glob("*.py")):
        assert "scanium_e2e.expectations" not in imports_of(f"traffic/{module.name}"), module
