"""The contract file: the default parses; unknown fields are named."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from contract_data import DEFAULT, contract_with, default_data
from pydantic import ValidationError

from scanium_e2e.contract import (
    DEFAULT_MUST_PAGE,
    AlertExpectations,
    FailureAccounting,
    load_contract,
    parse_contract,
)
from scanium_e2e.errors import ConfigurationError
from scanium_e2e.settings import REPO_ROOT


def test_default_contract_matches_the_scanium_contract() -> None:
    contract = load_contract(DEFAULT)
    assert contract.requests.name == "scanium_assistant_requests_total"
    assert contract.requests.labels == ("provider", "status", "cache_hit")
    assert contract.latency.buckets == (50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)
    assert contract.tokens.buckets == (50, 100, 250, 500, 1000, 2000, 4000)
    assert contract.token_types == ("input", "output", "total")
    assert contract.scrape.job == "scanium-backend"
    assert contract.budget_for("scanium_http_requests_total") == 100
    assert contract.budget_for("anything_else") == contract.series_budget_default


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (("metrics", "tokens", "lables"), "unknown field `metrics.tokens.lables`"),
        (("scrape", "jobb"), "unknown field `scrape.jobb`"),
        (("extra",), "unknown field `extra`"),
    ],
)
def test_unknown_field_is_named(path: tuple[str, ...], message: str) -> None:
    data = copy.deepcopy(default_data())
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = ["x"]
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        parse_contract(data, source="my.json")


def test_missing_metric_and_bad_type() -> None:
    data = default_data()
    del data["metrics"]["errors"]
    with pytest.raises(ConfigurationError, match=r"`metrics\.errors` is missing"):
        parse_contract(data)
    data = default_data()
    data["metrics"]["requests"]["type"] = "countr"
    with pytest.raises(ConfigurationError, match="type` is 'countr'"):
        parse_contract(data)


def test_malformed_json_names_line(tmp_path: Path) -> None:
    bad = tmp_path / "c.json"
    bad.write_text('{"metrics": {,}}')
    with pytest.raises(ConfigurationError, match=r"c.json is not valid JSON: .* line 1"):
        load_contract(bad)


def test_failure_accounting_is_parsed_strictly() -> None:

    import pytest as _pytest

    from scanium_e2e.contract import parse_contract
    from scanium_e2e.errors import ConfigurationError

    base = json.loads((REPO_ROOT / "fixtures" / "contract.json").read_text())
    assert parse_contract(base).failures.recorded_as == "error"
    base["failures"] = {"recorded_as": "success", "error_counter": False}
    parsed = parse_contract(base)
    assert (parsed.failures.recorded_as, parsed.errors_recorded) == ("success", False)
    base["failures"] = {"recorded_as": "fallback"}
    with _pytest.raises(ConfigurationError, match=r"failures\.recorded_as"):
        parse_contract(base)
    base["failures"] = {"counted": "error"}
    with _pytest.raises(ConfigurationError, match=r"failures\.counted"):
        parse_contract(base)
    del base["failures"]
    base["errors_recorded"] = False
    assert parse_contract(base).failures.error_counter is False
    base["failures"] = {}
    with _pytest.raises(ConfigurationError, match="not both"):
        parse_contract(base)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("metrics", "requests", "labels"), ["provider", ""],
         "my.json: `metrics.requests.labels` must be a list of non-empty strings."),
        (("metrics", "latency", "buckets"), ["50"],
         "my.json: `metrics.latency.buckets` must be a list of numbers."),
        (("metrics", "requests", "unit"), "ms", "my.json: `metrics.requests.unit` is not a field "
         "of this metric (only `metrics.latency` has a unit)."),
        (("metrics", "latency", "unit"), "min", "my.json: `metrics.latency.unit` is 'min'; use "
         "ms or s."),
        (("metrics", "cache_hit_rate", "type"), "counter",
         "my.json: `metrics.cache_hit_rate.type` must be gauge."),
        (("metrics", "cache_hit_rate"), None, "my.json: `metrics.cache_hit_rate` must be an "
         "object."),
        (("metrics", "Bad-Role"), {}, "my.json: unknown field `metrics.Bad-Role`"),
        (("cache", "repeats"), True, "my.json: `cache.repeats` is True; give a whole number from "
         "0 (no cache) to 20."),
        (("failures", "error_counter"), "yes",
         "my.json: `failures.error_counter` must be true or false."),
        (("series_budget", "per_metric"), {"x": 0},
         "my.json: `series_budget.per_metric` maps metric names to positive integers."),
        (("series_budget", "default"), "abc",
         "my.json: `series_budget.default` must be a positive whole number."),
        (("dashboards", "allow_empty"), {"Panel": " "},
         "my.json: `dashboards.allow_empty` maps panel titles to a non-empty reason."),
        (("alerts", "must_fire"), {"someday": ["A"]}, "my.json: unknown field `alerts.must_fire."
         "someday`"),
        (("scrape", "job"), 3, "my.json: `scrape.job` must be a non-empty string."),
        (("otlp", "temporality"), "delta", "my.json: `otlp.temporality` is 'delta'; use "
         "cumulative (Alloy's otelcol.exporter.prometheus drops delta-temporality sums and "
         "histograms)."),
        (("otlp", "spans", "status"), {"reply": "STATUS_CODE_OK"}, "my.json: `otlp.spans.status` "
         "needs the span status of every outcome (reply, llm_failure, refused); missing: "
         "llm_failure, refused."),
        (("otlp", "spans", "status"), {"reply": "OK", "llm_failure": "E", "refused": "U",
                                       "timeout": "E"},
         "my.json: unknown field `otlp.spans.status.timeout`"),
        (("otlp", "metrics", "tokens", "lables"), ["x"],
         "my.json: unknown field `otlp.metrics.tokens.lables`"),
        (("otlp",), None, "my.json: `otlp` must be an object."),
        (("http",), None, "my.json: `http` must be an object."),
        (("http", "routes", "chat"), {"method": "POST"},
         "my.json: `http.routes.chat.route` is missing."),
        (("http", "routes", "unknown", "path"), "x", "my.json: unknown field "
         "`http.routes.unknown.path`"),
    ],
)  # fmt: skip
def test_each_problem_is_one_sentence_naming_its_key_path(
    path: tuple[str, ...], value: Any, message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_contract(contract_with(path, value), source="my.json")
    assert str(caught.value) == message


def test_every_problem_of_a_file_is_named_in_one_paragraph() -> None:
    data = contract_with(("metrics", "requests", "type"), "countr")
    del data["metrics"]["errors"]
    data["extra"] = 1
    with pytest.raises(ConfigurationError) as caught:
        parse_contract(data, source="my.json")
    assert str(caught.value) == (
        "my.json: `metrics.requests.type` is 'countr'; use one of counter, gauge, histogram, "
        "summary; `metrics.errors` is missing; unknown field `extra`."
    )
    with pytest.raises(ConfigurationError, match=r"^c\.json: the top level must be an object\.$"):
        parse_contract([], source="c.json")


def test_optional_parts_default_and_the_latency_unit_is_read_from_the_name() -> None:
    data = default_data()
    for key in ("scrape", "cache", "statuses", "series_budget", "dashboards", "alerts", "faults"):
        del data[key]
    del data["metrics"]["cache_hit_rate"]
    del data["metrics"]["latency"]["unit"]
    contract = parse_contract(data)
    assert contract.latency.unit == "ms" and contract.cache_hit_rate is None
    assert contract.scrape.job == "scanium-backend" and contract.cache.repeats == 2
    assert (contract.faults, contract.allow_empty_panels) == ({}, {})
    # The families keep the file's order: the closed world lists its tests in it.
    assert list(contract.families) == [
        "requests", "latency", "tokens", "errors", "http_requests", "http_duration",
    ]  # fmt: skip
    data["metrics"]["latency"]["name"] = "latency_total"
    with pytest.raises(ConfigurationError, match="does not end in _ms or _seconds"):
        parse_contract(data)


def test_the_otlp_road_is_parsed_with_its_families_and_vocabulary() -> None:
    otlp = parse_contract(default_data()).otlp
    assert otlp is not None
    assert (otlp.receiver, otlp.job, otlp.instance) == (
        "otelcol.receiver.otlp.backend_http",
        "scanium-backend",
        "scanium-backend",
    )
    assert list(otlp.families) == [
        "requests", "duration", "tokens", "rate_limit_requests", "rate_limit_tokens",
        "span_calls", "span_duration",
    ]  # fmt: skip
    # Stored under the exporter's name; pushed as the instrument Scanium records.
    assert otlp.families["rate_limit_requests"].name == "openai_rate_limit_requests_remaining_ratio"
    assert otlp.pushed["rate_limit_requests"].instrument == "openai_rate_limit_requests_remaining"
    assert otlp.pushed["duration"].unit == "s"
    assert otlp.limit_types == {"rate_limit_requests": "requests", "rate_limit_tokens": "tokens"}
    assert otlp.spans is not None and otlp.spans.status["llm_failure"] == "STATUS_CODE_ERROR"
    # The road's vocabulary names the span status codes (HTTP's status_code is a number).
    rule = otlp.vocabulary["status_code"]
    assert rule.allows("STATUS_CODE_OK") and not rule.allows("200")


def test_a_contract_without_otlp_has_no_road() -> None:
    data = default_data()
    del data["otlp"]
    assert parse_contract(data).otlp is None


def test_the_http_layer_names_each_kinds_route_and_the_routes_of_others() -> None:
    http = parse_contract(default_data()).http
    assert http is not None
    assert (http.chat.method, http.chat.route) == ("POST", "/v1/assist/chat")
    assert (http.unknown.method, http.unknown.route) == ("GET", "unmatched")
    assert "/metrics" in http.others and "/health" in http.others
    data = default_data()
    del data["http"]
    assert parse_contract(data).http is None


def test_code_gives_the_pages_flat_and_a_file_only_under_pages() -> None:
    assert AlertExpectations(must_page=("scrape",)).must_page == ("scrape",)
    assert AlertExpectations(need_not_page={"leak": "why"}).must_page == ()
    assert AlertExpectations().must_page == DEFAULT_MUST_PAGE
    with pytest.raises(ConfigurationError, match=r"unknown field `alerts\.must_page`"):
        parse_contract(contract_with(("alerts", "must_page"), ["scrape"]))


def test_a_part_is_frozen_and_a_variant_names_only_fields() -> None:
    contract = load_contract(DEFAULT)
    with pytest.raises(ValidationError, match="frozen"):
        contract.scrape.job = "other"
    variant = contract.model_copy(update={"failures": FailureAccounting(error_counter=False)})
    assert variant.errors_recorded is False and variant.source == contract.source
    # A misspelt field would be added beside the fields, and the variant change nothing.
    with pytest.raises(TypeError, match="Contract has no field 'error_recorded'"):
        contract.model_copy(update={"error_recorded": False})
