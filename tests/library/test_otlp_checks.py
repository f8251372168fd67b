"""The OTLP road's closed world (checks/otlp.py) on series as the store holds them."""

from __future__ import annotations

from scanium_e2e.checks.labels import Exposure
from scanium_e2e.checks.otlp import (
    TARGET_INFO,
    OtlpExposures,
    otlp_label_findings,
    otlp_labels,
    otlp_unlisted_findings,
    otlp_value_findings,
    otlp_view,
)
from scanium_e2e.contract import load_contract
from scanium_e2e.findings import OTLP, Kind
from scanium_e2e.secrets import Masker
from scanium_e2e.settings import REPO_ROOT

CONTRACT = load_contract(REPO_ROOT / "fixtures" / "contract.json")
# What the road adds: the resource's job and instance, the remote write's external labels.
ADDED = frozenset({"job", "instance", "service_name", "run_id", "env", "source",
                   "deployment_environment"})  # fmt: skip
BASE = {"job": "scanium-backend", "instance": "scanium-backend", "run_id": "r",
        "service_name": "scanium-backend", "env": "e2e", "source": "scanium-backend"}  # fmt: skip
# A run key: random, so its fragments are masked (a word-like one would not be).
MASKER = Masker(["k3Y9fQ2xZ7pLm4Rt"])


def seen(*series: dict[str, str]) -> OtlpExposures:
    exposure = Exposure("Cortex (OTLP)", 1, tuple({**BASE, **s} for s in series), ADDED)
    return OtlpExposures(otlp_view(CONTRACT), (exposure,))


CALL = {"__name__": "calls_total", "span_name": "POST /v1/assist/chat",
        "span_kind": "SPAN_KIND_SERVER", "status_code": "STATUS_CODE_OK"}  # fmt: skip


def test_the_view_holds_the_roads_families_and_target_info_and_its_vocabulary() -> None:
    view = otlp_view(CONTRACT)
    assert TARGET_INFO in view.families and "span_calls" in view.families
    assert view.vocabulary["status_code"].allows("STATUS_CODE_ERROR")
    # Labels with a vocabulary entry get their own test; target_info's attributes do not.
    assert otlp_labels(CONTRACT) == [
        "model", "status", "error_type", "token_type", "limit_type", "service_name",
        "span_name", "span_kind", "status_code",
    ]  # fmt: skip


def test_a_declared_label_the_pipeline_also_adds_is_the_familys_own() -> None:
    # The span metrics' service_name is a dimension and an external label at once.
    assert otlp_label_findings("span_calls", seen(CALL), MASKER) == []


def test_an_attribute_beyond_the_contract_is_named_on_the_otlp_road() -> None:
    leaky = {"__name__": "target_info", "deployment_environment": "production",
             "telemetry_sdk_language": "python", "telemetry_sdk_name": "opentelemetry",
             "telemetry_sdk_version": "1.45.2", "scanium_client": "k3Y9fQ2x"}  # fmt: skip
    (finding,) = otlp_label_findings(TARGET_INFO, seen(leaky), MASKER)
    assert (finding.kind, finding.hop, finding.road) == (Kind.LABEL_UNEXPECTED, 1, OTLP)
    assert finding.expected == "scanium_client"
    # The run key's first 8 characters never show: the example value is masked.
    assert "k3Y9fQ2x" not in finding.render() and 'scanium_client="***"' in finding.render()


def test_a_span_name_carrying_a_raw_url_is_outside_the_vocabulary() -> None:
    raw = {**CALL, "span_name": "HTTP POST /v1/assist/chat?debug=1"}
    findings, judged = otlp_value_findings("span_name", seen(raw), MASKER)
    assert judged == 1
    (finding,) = findings
    assert finding.kind == Kind.VALUE_OUTSIDE_VOCABULARY and finding.road == OTLP


def test_no_series_at_all_is_nothing_judged_not_a_pass() -> None:
    (finding,) = otlp_unlisted_findings(seen(), MASKER)
    assert finding.kind == Kind.DEPENDS_ON
    assert "have no series of this run in the store" in finding.render()
