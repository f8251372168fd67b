"""The OTLP road: what the backend pushes through Alloy's `otelcol` components (contract
`otlp`) is judged as exactly as what Alloy scrapes.

- LLM calls, their durations and tokens (`openai_*`), and the span metrics of the chat
  requests (`calls_total`, `duration_milliseconds`) rose by exactly what the ledger sent;
  the histograms have exactly the contract's buckets;
- the rate-limit gauges show the remaining requests and tokens the LLM's last answers
  stated in their headers;
- every series of every OTLP family, and `target_info`, carries exactly the contract's
  labels (and the ones the road adds: the resource's job and instance, the remote write's
  external labels); every value comes from its vocabulary.

Each wait is final once an export stamped after the traffic is in the store; a family that
never arrives is named by the OTLP road's hops (verdict.otlp_diagnose). None of this waits
on the scrape: with the seed incident's 403 these tests still pass.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from scanium_e2e.checks.histograms import check_series_and_bounds
from scanium_e2e.checks.labels import UNLISTED, fail_on_findings, nothing_judged
from scanium_e2e.checks.otlp import (
    RATE_LIMITS,
    OtlpExposures,
    otlp_exposures,
    otlp_label_findings,
    otlp_labels,
    otlp_unlisted_findings,
    otlp_value_findings,
    otlp_view,
    unjudged_family,
    verdict_of,
)
from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.contract import OtlpSpec
from scanium_e2e.errors import CheckFailed
from scanium_e2e.findings import OTLP
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.suite_plugin import collection_contract


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One label-set test per OTLP family (and target_info), one vocabulary test per label
    they declare (and `unlisted`)."""
    contract = collection_contract(metafunc.config)
    if "otlp_family" in metafunc.fixturenames:
        families = list(otlp_view(contract).families) if contract.otlp is not None else []
        metafunc.parametrize("otlp_family", families or ["none"])
    if "otlp_label" in metafunc.fixturenames:
        labels = otlp_labels(contract) if contract.otlp is not None else []
        metafunc.parametrize("otlp_label", [*labels, UNLISTED] if labels else ["none"])


@pytest.fixture
def road(pipeline: Pipeline, waive: Callable[[str], None]) -> OtlpSpec:
    """The contract's OTLP road; a contract without one waives the test."""
    if pipeline.contract.otlp is None:
        waive(f"{pipeline.contract.source} names no OTLP road (no `otlp` section)")
    assert pipeline.contract.otlp is not None
    return pipeline.contract.otlp


@pytest.fixture(scope="module")
def otlp_seen(pipeline: Pipeline, otlp_settlement: CountSettlement) -> OtlpExposures | None:
    """This run's OTLP series in the store, once the OTLP counts are settled."""
    if pipeline.contract.otlp is None:
        return None
    return otlp_exposures(pipeline, otlp_settlement.run.ledger.finished_at)


def test_llm_calls_equal_the_ledger(road: OtlpSpec, otlp_settlement: CountSettlement) -> None:
    """`openai_requests_total` by status and error_type: one call per success, one per
    injected fault under the fault's error type."""
    verdict_of(otlp_settlement, "otlp_requests")


def test_llm_call_durations_are_counted_in_the_contract_buckets(
    pipeline: Pipeline, road: OtlpSpec, otlp_settlement: CountSettlement
) -> None:
    """`openai_request_duration_seconds_count` by status equals the calls, and its buckets
    are exactly the contract's."""
    verdict_of(otlp_settlement, "otlp_duration_count")
    check_series_and_bounds(pipeline, road.families["duration"], road=OTLP)


def test_llm_tokens_equal_the_ledger(road: OtlpSpec, otlp_settlement: CountSettlement) -> None:
    """`openai_tokens_total` by token_type rose by the successes' planned usage."""
    verdict_of(otlp_settlement, "otlp_tokens")


def test_rate_limit_gauges_show_the_latest_headers(
    road: OtlpSpec, otlp_settlement: CountSettlement, waive: Callable[[str], None]
) -> None:
    """The remaining-requests and -tokens gauges show what the LLM's last answers stated in
    their x-ratelimit-remaining-* headers."""
    if "rate_limit_requests" not in road.families and "rate_limit_tokens" not in road.families:
        waive("the contract's OTLP road names no rate-limit gauges")
    verdict_of(otlp_settlement, RATE_LIMITS)


def test_span_calls_equal_the_ledger(
    road: OtlpSpec, otlp_settlement: CountSettlement, waive: Callable[[str], None]
) -> None:
    """`calls_total` of the chat span by status_code: the replies, the LLM failures and
    the refused requests the ledger sent."""
    if "span_calls" not in road.families:
        waive("the contract's OTLP road names no span metrics (`otlp.spans`)")
    verdict_of(otlp_settlement, "span_calls")


def test_span_durations_are_counted_in_the_contract_buckets(
    pipeline: Pipeline,
    road: OtlpSpec,
    otlp_settlement: CountSettlement,
    waive: Callable[[str], None],
) -> None:
    """`duration_milliseconds_count` of the chat span equals its calls, and its buckets are
    exactly the contract's (the connector's explicit buckets)."""
    if "span_duration" not in road.families:
        waive("the contract's OTLP road names no span duration (`otlp.spans.duration`)")
    verdict_of(otlp_settlement, "span_duration_count")
    check_series_and_bounds(pipeline, road.families["span_duration"], road=OTLP)


def test_otlp_series_carry_exactly_the_contract_labels(
    pipeline: Pipeline,
    road: OtlpSpec,
    otlp_seen: OtlpExposures,
    otlp_settlement: CountSettlement,
    otlp_family: str,
) -> None:
    """Every series of the OTLP family carries exactly the contract's labels and the ones
    the road adds (target_info: the resource's attributes)."""
    ended = otlp_settlement.run.ledger.finished_at
    reason = unjudged_family(pipeline, otlp_family, otlp_seen, ended)
    if reason is not None:
        raise CheckFailed(pipeline.masker.mask(reason.render()), (reason,))
    name = otlp_seen.view.families[otlp_family].name
    findings = otlp_label_findings(otlp_family, otlp_seen, pipeline.masker)
    fail_on_findings(f"labels of {name}", findings)


def test_otlp_label_values_come_from_their_vocabulary(
    pipeline: Pipeline, road: OtlpSpec, otlp_seen: OtlpExposures, otlp_label: str
) -> None:
    """Every value of the label on every OTLP family that carries it is in its vocabulary
    (the road's own, else the contract's); `unlisted`: a label without one follows the
    default policy (no free text, long value or URL with a query string)."""
    if otlp_label == UNLISTED:
        fail_on_findings(
            "OTLP labels without a vocabulary entry",
            otlp_unlisted_findings(otlp_seen, pipeline.masker),
        )
        return
    findings, judged = otlp_value_findings(otlp_label, otlp_seen, pipeline.masker)
    if not judged:
        findings = [nothing_judged(otlp_label, otlp_seen.view, "the store (the OTLP road)")]
    fail_on_findings(f"values of {otlp_label}", findings)
