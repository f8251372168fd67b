"""The HTTP layer against the ledger (checks/http.py): wrong counts named from the counts."""

from __future__ import annotations

from scanium_e2e.checks.http import http_explainer, per_path_finding, status_finding
from scanium_e2e.contract import load_contract
from scanium_e2e.findings import Kind
from scanium_e2e.settings import REPO_ROOT
from scanium_e2e.traffic import Ledger, LedgerEntry
from scanium_e2e.traffic.run import Counts

CONTRACT = load_contract(REPO_ROOT / "fixtures" / "contract.json")
METRIC = "scanium_http_requests_total"
CHAT = ("POST", "/v1/assist/chat")
PATHS = frozenset({"/v1/assist/e2e-no-such-route-1", "/v1/assist/e2e-no-such-route-2"})
PLANNED: Counts = {
    (*CHAT, "200"): 8.0,
    (*CHAT, "400"): 4.0,
    ("GET", "unmatched", "404"): 2.0,
}


def test_route_values_that_are_the_ledgers_unknown_paths_are_named() -> None:
    increase: Counts = {
        (*CHAT, "200"): 8.0,
        (*CHAT, "400"): 4.0,
        ("GET", "/v1/assist/e2e-no-such-route-1", "404"): 1.0,
        ("GET", "/v1/assist/e2e-no-such-route-2?nonce=abc&token=x", "404"): 1.0,
    }
    finding = per_path_finding(METRIC, increase, PATHS, CONTRACT)
    assert finding is not None and finding.kind is Kind.ROUTE_PER_PATH
    text = finding.render()
    assert "route=/v1/assist/e2e-no-such-route-1, route=/v1/assist/e2e-no-such-route-2" in text
    assert "route=unmatched" in text and "carries the query string too" in text
    # The query string itself is never quoted.
    assert "nonce" not in text and "token=x" not in text


def test_a_template_route_is_no_per_path_finding() -> None:
    assert per_path_finding(METRIC, PLANNED, PATHS, CONTRACT) is None


def test_statuses_that_are_not_the_answers_are_named_with_both_splits() -> None:
    increase: Counts = {(*CHAT, "200"): 12.0, ("GET", "unmatched", "200"): 2.0}
    finding = status_finding(METRIC, PLANNED, increase)
    assert finding is not None and finding.kind is Kind.HTTP_STATUS_DIFFERS
    assert finding.render() == (
        "`scanium_http_requests_total` labels answers with statuses they did not have: the "
        "ledger's answers were GET unmatched: 404x2 and POST /v1/assist/chat: 200x8, 400x4; "
        "the counter has GET unmatched: 200x2 and POST /v1/assist/chat: 200x12"
    )


def test_a_short_or_partial_count_is_not_a_status_finding() -> None:
    short: Counts = {(*CHAT, "200"): 8.0}
    # Per route the total differs (mid-traffic, or a lost answer): another shape, or none.
    assert status_finding(METRIC, PLANNED, short) is None
    assert status_finding(METRIC, PLANNED, dict(PLANNED)) is None


def test_the_explainer_judges_statuses_only_where_counts_are_exact() -> None:
    ledger = Ledger(run_id="r", provider="openai", base_url="http://x", started_at=0.0)
    ledger.record(
        LedgerEntry(
            seq=0, kind="unknown_route", case="get", nonce="n", fault=None,
            planned_input_tokens=None, planned_output_tokens=None, http_status=404, code="",
            error_type="", assistant_error=False, from_cache=False, latency_ms=1.0,
            retries=0, sent_at=0.0, method="GET", path="/v1/assist/e2e-no-such-route-1",
        )
    )  # fmt: skip
    wrong: Counts = {(*CHAT, "200"): 12.0, ("GET", "unmatched", "200"): 2.0}
    exact = http_explainer(METRIC, PLANNED, ledger, CONTRACT, exact=True)
    shared = http_explainer(METRIC, PLANNED, ledger, CONTRACT, exact=False)
    assert exact(wrong) is not None and shared(wrong) is None
    per_path: Counts = {("GET", "/v1/assist/e2e-no-such-route-1", "404"): 1.0}
    assert shared(per_path) is not None
