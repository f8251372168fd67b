"""Answers against the plan (checks/answers.py): a claim of the response cache is set
against the stub LLM's journal, and the sentence says both observations."""

from __future__ import annotations

from scanium_e2e.checks.answers import answer_finding
from scanium_e2e.findings import Kind
from scanium_e2e.traffic import Ledger, LedgerEntry


def ledger(*, from_cache: bool) -> Ledger:
    run = Ledger(run_id="r", provider="openai", base_url="http://x", started_at=0.0)
    run.record(
        LedgerEntry(
            seq=3, kind="success", case="tokens", nonce="n-abc", fault=None,
            planned_input_tokens=120, planned_output_tokens=45, http_status=200, code="",
            error_type="", assistant_error=False, from_cache=from_cache, latency_ms=1.0,
            retries=0, sent_at=0.0,
        )
    )  # fmt: skip
    return run


def test_answers_as_planned_are_no_finding() -> None:
    assert answer_finding(ledger(from_cache=False), journal=[]) is None


def test_a_cache_claim_the_llm_journal_contradicts_says_both() -> None:
    journal = [{"text": "Suggest a title (run r, nonce n-abc)", "status": 200}]
    finding = answer_finding(ledger(from_cache=True), journal)
    assert finding is not None and finding.kind is Kind.ANSWER_NOT_PLANNED
    assert finding.render() == (
        "the backend: 1 answer(s) other than the plan's: #3 success (tokens, nonce n-abc): the "
        "answer says fromCache despite the request's unique nonce, while the stub LLM's journal "
        "shows it was asked for this request and answered HTTP 200: the backend calls the LLM "
        "and still claims the cache"
    )


def test_a_cache_claim_the_journal_confirms_or_cannot_judge_is_said_as_seen() -> None:
    other = [{"text": "nonce n-other", "status": 200}]
    confirmed = answer_finding(ledger(from_cache=True), other)
    assert confirmed is not None
    assert confirmed.render().endswith("and the stub LLM's journal has no request with that nonce")
    unjudged = answer_finding(ledger(from_cache=True), None)
    assert unjudged is not None
    assert unjudged.render().endswith("(the deployment's LLM keeps no journal the suite can read)")
