"""The closed world's judges, without Docker: secret fragments, exact label sets, label
vocabularies, the default policy, the cache split and the shapes of a short count."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from contract_data import contract_with

from scanium_e2e.checks.cache import expected_split
from scanium_e2e.checks.deviations import short_finding, short_keys
from scanium_e2e.checks.labels import (
    UNLISTED,
    Exposure,
    label_set_findings,
    masked_value,
    nothing_judged,
    policy_breach,
    unlisted_findings,
    value_findings,
)
from scanium_e2e.checks.leaks import scan_text
from scanium_e2e.contract import CacheSpec, load_contract, parse_contract
from scanium_e2e.errors import ConfigurationError
from scanium_e2e.findings import Kind
from scanium_e2e.secrets import Masker, RunSecrets, distinct_parts, distinct_token
from scanium_e2e.settings import REPO_ROOT
from scanium_e2e.stack.alloy_config import AlloyComponent, pipeline_labels
from scanium_e2e.traffic.canaries import Canaries
from scanium_e2e.traffic.run import Counts

CONTRACT = load_contract(REPO_ROOT / "fixtures" / "contract.json")
KEY = "sk-e2e-" + "GhJkMnPqRsTvWxYzghjkmnpq"
STORE = frozenset({"job", "instance", "run_id", "env"})


def metrics_series(*series: dict[str, str]) -> Exposure:
    return Exposure("/metrics", 1, tuple(series))


def store_series(*series: dict[str, str]) -> Exposure:
    pipeline = {"job": "scanium-backend", "instance": "scanium-backend", "run_id": "r", "env": "e"}
    return Exposure("Cortex", 5, tuple({**pipeline, **labels} for labels in series), STORE)


REQUEST = {
    "__name__": "scanium_assistant_requests_total",
    "provider": "openai",
    "status": "success",
    "cache_hit": "false",
}


# --- secret fragments -----------------------------------------------------------------


def test_a_fragment_of_the_key_is_a_leak_and_is_masked() -> None:
    secrets = RunSecrets()
    secrets.add(KEY)
    text = 'scanium_assistant_requests_total{client="sk-e2e-G"} 3'
    found = scan_text("/metrics line 1", text, secrets)
    assert [leak.kind for leak in found] == ["fragment of a run secret (8 chars)"]
    assert "sk-e2e" not in found[0].excerpt
    assert "sk-e2e" not in Masker([KEY]).mask(text)


def test_the_base64_of_a_key_is_a_leak() -> None:
    secrets = RunSecrets()
    secrets.add(KEY)
    encoded = base64.b64encode(KEY[3:].encode()).decode()
    assert secrets.fragments(f"header={encoded}")


def test_words_of_a_key_someone_chose_are_no_leak() -> None:
    """A key made of words ("scanium", "traffic") must not turn every log line that says
    them into a leak: only windows that are not plain lower-case words count."""
    secrets = RunSecrets()
    secrets.add("scanium-traffic-key-5b7c91e2d4")
    assert not secrets.fragments("traffic run traffic-3ae1deb5 to scanium_assistant_requests")
    assert secrets.fragments("key=ic-key-5b7c")


def test_a_canary_counts_by_its_random_part_not_its_wording() -> None:
    canaries = Canaries.generate()
    secrets = RunSecrets()
    for value in canaries.values():
        secrets.add_canary(value)
    assert not secrets.fragments("a canary sang for example.com at the lighthouse")
    token = distinct_parts(canaries.provider_text)[0]
    assert secrets.fragments(f"message=Error code: 500 (ref {token[:7]})")


def test_random_parts_never_look_like_hex_or_ids() -> None:
    token = distinct_token(64)
    assert not set(token) & set("0123456789abcdefABCDEF")
    secrets = RunSecrets()
    secrets.add("sk-e2e-" + token)
    ids = " ".join(f"{n:032x}" for n in range(2000))
    assert not secrets.fragments(ids)


# --- exact label sets -------------------------------------------------------------------


def test_an_extra_label_is_named_with_a_masked_example_and_its_count() -> None:
    masker = Masker([KEY])
    leaky = {**REQUEST, "client": KEY[:8]}
    findings = label_set_findings(
        "requests", CONTRACT, [metrics_series(leaky, leaky), store_series(leaky)], masker
    )
    assert [(f.kind, f.expected, f.hop) for f in findings] == [(Kind.LABEL_UNEXPECTED, "client", 1)]
    sentence = findings[0].render()
    assert "2 series in /metrics and 1 series in Cortex" in sentence
    assert "sk-e2e" not in sentence and 'client="***' in sentence


def test_labels_the_pipeline_adds_are_not_extra_but_only_in_the_store() -> None:
    assert label_set_findings("requests", CONTRACT, [store_series(REQUEST)], Masker()) == []
    # In /metrics the backend itself would have sent `env`: that is the backend's label.
    findings = label_set_findings(
        "requests", CONTRACT, [metrics_series({**REQUEST, "env": "prod"})], Masker()
    )
    assert [f.expected for f in findings] == ["env"]


def test_a_label_only_the_store_shows_was_added_on_the_way() -> None:
    relabelled = {**REQUEST, "pod": "scanium-0"}
    findings = label_set_findings(
        "requests", CONTRACT, [metrics_series(REQUEST), store_series(relabelled)], Masker()
    )
    assert [(f.kind, f.hop) for f in findings] == [(Kind.LABEL_UNEXPECTED, 2)]


def test_a_missing_label_and_an_optional_one() -> None:
    bare = {key: value for key, value in REQUEST.items() if key != "cache_hit"}
    findings = label_set_findings("requests", CONTRACT, [metrics_series(bare)], Masker())
    assert [(f.kind, f.expected) for f in findings] == [(Kind.LABEL_MISSING, "cache_hit")]
    data = json.loads((REPO_ROOT / "fixtures" / "contract.json").read_text())
    data["metrics"]["requests"]["optional_labels"] = ["model"]
    relaxed = parse_contract(data)
    with_model = {**REQUEST, "model": "gpt-4o-mini"}
    assert label_set_findings("requests", relaxed, [metrics_series(with_model)], Masker()) == []


def test_histogram_buckets_carry_le_of_their_own() -> None:
    bucket = {
        "__name__": "scanium_assistant_request_latency_ms_bucket",
        "provider": "openai",
        "status": "success",
        "le": "50.0",
    }
    assert label_set_findings("latency", CONTRACT, [metrics_series(bucket)], Masker()) == []


# --- vocabularies and the default policy -------------------------------------------------


def test_a_value_outside_the_vocabulary_is_named_masked() -> None:
    route = {
        "__name__": "scanium_http_requests_total",
        "method": "GET",
        "route": "/nope?email=a@b.c&token=xyz",
        "status_code": "404",
    }
    findings, judged = value_findings("route", CONTRACT, [metrics_series(route)], Masker())
    assert judged == 1
    assert [(f.kind, f.subject) for f in findings] == [
        (Kind.VALUE_OUTSIDE_VOCABULARY, "scanium_http_requests_total")
    ]
    sentence = findings[0].render()
    assert "a@b.c" not in sentence and "xyz" not in sentence
    assert "/nope?email=***&token=***" in sentence


def test_provider_must_be_the_ledgers() -> None:
    claude = {**REQUEST, "provider": "claude"}
    findings, _ = value_findings(
        "provider", CONTRACT, [metrics_series(claude)], Masker(), justified=["openai"]
    )
    assert [f.kind for f in findings] == [Kind.VALUE_UNJUSTIFIED]
    assert value_findings("provider", CONTRACT, [metrics_series(claude)], Masker())[0] == []


def test_labels_without_a_vocabulary_follow_the_default_policy() -> None:
    other = {"__name__": "scanium_build_info", "version": "1.2.3", "note": "built by hand"}
    findings, judged = unlisted_findings(CONTRACT, [metrics_series(other)], Masker())
    assert judged == 2
    assert [(f.kind, f.expected) for f in findings] == [(Kind.VALUE_AGAINST_POLICY, "note")]
    assert "free text" in findings[0].render()
    assert UNLISTED not in CONTRACT.vocabulary


def test_an_extra_label_is_the_label_set_tests_not_the_vocabularys() -> None:
    leaky = {**REQUEST, "message": "Error code: 500 - The server had an error"}
    assert unlisted_findings(CONTRACT, [metrics_series(leaky)], Masker())[0] == []


@pytest.mark.parametrize(
    ("value", "breach"),
    [
        ("openai", None),
        ("/v1/assist/chat", None),
        ("Error code: 500", "free text"),
        ("/v1/x?token=abc", "a URL with a query string"),
        ("x" * 65, "a long value"),
    ],
)
def test_the_default_policy(value: str, breach: str | None) -> None:
    found = policy_breach(value)
    assert (found is None) if breach is None else (found or "").startswith(breach)


def test_masked_values_hide_secrets_shapes_and_query_values() -> None:
    shown = masked_value(f"{KEY} mail bob@example.org ?q=1", Masker([KEY]))
    assert KEY not in shown and "bob@example.org" not in shown and "q=***" in shown


def test_a_label_no_series_carries_depends_on_its_families() -> None:
    finding = nothing_judged("token_type", CONTRACT)
    assert finding.kind == Kind.DEPENDS_ON
    assert "`scanium_assistant_tokens_used`" in finding.render()


# --- the cache path, and a short count ---------------------------------------------------


def test_the_cache_split_follows_the_counters_own_total() -> None:
    cache = CacheSpec()
    # A failure counted twice adds to the total: the split still holds.
    assert expected_split(cache, 2.0, {("true",): 2.0, ("false",): 13.0}) == {
        ("true",): 2.0,
        ("false",): 13.0,
    }
    # Hits counted as misses: the split does not hold.
    increase: Counts = {("false",): 15.0}
    assert expected_split(cache, 2.0, increase) != increase


def test_a_short_total_names_its_shape() -> None:
    by = ("provider", "token_type")
    expected: Counts = {
        ("openai", "input"): 600.0,
        ("openai", "output"): 225.0,
        ("openai", "total"): 825.0,
    }
    increase: Counts = {**expected, ("openai", "total"): 600.0}
    assert short_keys(expected, increase) == [("openai", "total")]
    sentence = short_finding("tokens_sum", expected, increase, by, 1.2).render()
    assert "rose by exactly what the plan puts under token_type=input (600)" in sentence
    assert "token_type=total" in sentence and "1.2 s or more after the traffic" in sentence


def test_a_shortfall_with_a_counter_reset_says_so_first() -> None:
    by = ("provider", "status")
    expected: Counts = {("openai", "success"): 10.0}
    increase: Counts = {("openai", "success"): 4.0}
    sentence = short_finding("requests", expected, increase, by, 0.8, resets=1).render()
    assert sentence.startswith("`requests` rose by (openai, success)=4, short of the ledger's")
    assert "; the store shows the counter going down 1 time since the traffic began (a reset" in (
        sentence
    )
    assert "going down" not in short_finding("requests", expected, increase, by, 0.8).render()
    # Shapes read from an increase a reset cut short would be coincidences: not said.
    coincidence: Counts = {("openai", "success"): 4.0, ("openai", "error"): 4.0}
    said = short_finding("requests", coincidence, {("openai", "success"): 4.0}, by, 0.8, resets=1)
    assert "no series with" not in said.render()


def test_a_missing_status_is_named_as_never_observed() -> None:
    by = ("provider", "status")
    expected: Counts = {("openai", "success"): 10.0, ("openai", "error"): 4.0}
    increase: Counts = {("openai", "success"): 10.0}
    sentence = short_finding("latency_count", expected, increase, by, 0.6).render()
    assert "no series with provider=openai, status=error" in sentence
    # Something counted above its plan is no shortfall (the overshoot is named instead).
    assert short_keys(expected, {("openai", "success"): 11.0}) == []


# --- where the closed world's inputs come from -------------------------------------------


def test_the_pipelines_labels_come_from_the_alloy_config() -> None:
    data = json.loads(
        (
            REPO_ROOT / "tests" / "library" / "data" / "alloy-components-production-style.json"
        ).read_text()
    )
    components = [
        AlloyComponent.from_api(item, data["details"].get(item["localID"], {}))
        for item in data["components"]
    ]
    added = pipeline_labels(
        components, "prometheus.scrape.scanium_api", "prometheus.remote_write.mimir_prod"
    )
    assert added == (
        "cluster", "deployment_environment", "env", "instance", "job", "service", "service_name",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("vocabulary", "route"), {"pattern": "(/[a-z"}, "`vocabulary.route.pattern` is not a "
         "regular expression: '(/[a-z'"),
        (("vocabulary", "status"), {"valus": ["ok"]}, "unknown field `vocabulary.status.valus`"),
        (("vocabulary", "status"), {}, "`vocabulary.status` needs `values`, `pattern` or both"),
        (("faults", "418"), {"error_type": "x", "reason_code": "Y"}, "unknown field `faults.418`"),
        (("faults", "500"), {"error_type": "x"}, "`faults.500.reason_code` must be"),
        (("cache", "repeats"), -1, "`cache.repeats` is -1"),
        (("metrics", "cache_hit_rate", "definition"), "hits", "`metrics.cache_hit_rate.definition` "
         "is 'hits'"),
    ],
)  # fmt: skip
def test_a_malformed_vocabulary_fault_or_cache_entry_is_named(
    path: tuple[str, ...], value: Any, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        parse_contract(contract_with(path, value), source="my.json")


# --- every path of the contract runs -------------------------------------------------------


def test_the_session_plan_runs_every_fault_and_the_cache() -> None:
    from scanium_e2e.session.traffic import session_plan
    from scanium_e2e.settings import Settings
    from scanium_e2e.traffic.shapes import build_requests

    plan = session_plan(Settings(api_key=KEY, run_id="run-1"), CONTRACT)
    assert set(plan.faults) == set(CONTRACT.faults) and plan.provider_errors >= 4
    assert plan.cache_repeats == CONTRACT.cache.repeats == 2
    sent = build_requests(plan, Canaries.generate())
    assert {r.fault for r in sent if r.kind == "provider_error"} == set(CONTRACT.faults)
    assert all("[[stub:error_ref=pt-canary-" in (r.content or b"").decode()
               for r in sent if r.kind == "provider_error")  # fmt: skip
    repeats = [r for r in sent if r.kind == "cache_repeat"]
    assert len(repeats) == 2 and all(r.content == sent[0].content for r in repeats)
    assert sent[0].kind == "success" and sent[0].delay_ms == 0


def test_planned_error_labels_come_from_the_contracts_faults() -> None:
    from types import SimpleNamespace

    from scanium_e2e.checks.expectations import planned_counts

    entries = [
        SimpleNamespace(kind="success", fault=None, planned_input_tokens=1,
                        planned_output_tokens=1, retries=0, http_status=200),
        SimpleNamespace(kind="cache_repeat", fault=None, planned_input_tokens=None,
                        planned_output_tokens=None, retries=0, http_status=200),
        *(SimpleNamespace(kind="provider_error", fault=fault, planned_input_tokens=None,
                          planned_output_tokens=None, error_type="?", code="?", retries=0,
                          http_status=200)
          for fault in ("429", "500", "503", "malformed")),
        SimpleNamespace(kind="validation_error", fault=None, retries=0, http_status=400),
        SimpleNamespace(kind="unauthorized", fault=None, retries=1, http_status=401),
    ]  # fmt: skip
    ledger = SimpleNamespace(provider="openai", entries=entries)
    planned = planned_counts(ledger, CONTRACT)  # type: ignore[arg-type]
    assert planned["requests"] == {("openai", "success"): 2.0, ("openai", "error"): 4.0}
    assert planned["tokens_count"][("openai", "total")] == 1.0
    assert planned["errors_by_type"] == {
        ("openai", "rate_limited", "PROVIDER_RATE_LIMITED"): 1.0,
        ("openai", "provider_error", "PROVIDER_SERVER_ERROR"): 1.0,
        ("openai", "provider_error", "PROVIDER_UNAVAILABLE"): 1.0,
        ("openai", "invalid_response", "MALFORMED_PROVIDER_RESPONSE"): 1.0,
    }
    # The OTLP road: one LLM call per success and per fault, under the fault's error type;
    # one chat span per request the backend handled (a 429 before a retry is one more).
    assert planned["otlp_requests"] == {
        ("success", ""): 1.0,
        ("error", "rate_limited"): 1.0,
        ("error", "provider_error"): 2.0,
        ("error", "invalid_response"): 1.0,
    }
    assert planned["otlp_duration_count"] == {("success",): 1.0, ("error",): 4.0}
    assert planned["otlp_tokens"] == {("input",): 1.0, ("output",): 1.0, ("total",): 2.0}
    chat = "POST /v1/assist/chat"
    assert planned["span_calls"] == {
        (chat, "STATUS_CODE_OK"): 2.0,
        (chat, "STATUS_CODE_ERROR"): 4.0,
        (chat, "STATUS_CODE_UNSET"): 3.0,
    }
    # The HTTP layer: every answer by the status it came back with, a 429 before a retry too.
    assert (
        planned["http_requests"]
        == planned["http_duration_count"]
        == {
            ("POST", "/v1/assist/chat", "200"): 6.0,
            ("POST", "/v1/assist/chat", "400"): 1.0,
            ("POST", "/v1/assist/chat", "401"): 1.0,
            ("POST", "/v1/assist/chat", "429"): 1.0,
        }
    )
