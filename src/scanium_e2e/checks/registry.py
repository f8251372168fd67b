"""Every check of the suite as a named object: its name, the hop it judges, what it needs.

The e2e tests are the checks' bodies; this registry names them. A collected e2e test that
is no registered check, or a check whose test is gone, is an error at collection (e2e/
conftest.py), so the two cannot drift. The registry is what the rest refers to: the
mutation catalog names the checks each variant must fail (`check[param]`, translated to test
ids here), a run against a deployment skips the checks that need a local stack by one rule
(`local_only`), and the proofs ask which skips are allowed by what the checks need, never
by a skip's wording. `scanium-e2e checks` lists them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from scanium_e2e.findings import OTLP, hop_name


class Need(StrEnum):
    """What a check needs besides a stack to read."""

    TRAFFIC = "traffic"  # the session's traffic, sent
    LEDGER = "ledger"  # compares the store with what the traffic's ledger says
    LOCAL_STACK = "local stack"  # a stack the suite started: its logs, its ruler, stacks of its own
    STUB_JOURNAL = "stub journal"  # the stub LLM's record of what it was asked
    ALERT_RULES = "alert rules"  # the team's rules, on stacks that run our Alloy config
    ALERTMANAGER = "alertmanager config"  # --scanium-alertmanager-config
    MUTATIONS = "mutations"  # a proof of the suite itself: --scanium-mutations


# What a run against a deployment (external mode) cannot give a check.
LOCAL_ONLY: Final = frozenset({Need.LOCAL_STACK, Need.STUB_JOURNAL, Need.MUTATIONS})


@dataclass(frozen=True)
class Check:
    """One check: its name, the hop of the pipeline it judges (None: the suite itself, or
    several), the road (scraped "" or OTLP), what it needs, its test and one line of what
    it asserts."""

    name: str
    hop: int | None
    needs: frozenset[Need]
    test: str
    summary: str
    road: str = ""

    def test_id(self, param: str = "") -> str:
        """`e2e.test_x::test_y[param]`, as JUnit names the test."""
        return f"{self.test}[{param}]" if param else self.test

    @property
    def hop_text(self) -> str:
        """`1 backend /metrics`, `5 query (otlp)`, or `-`."""
        if self.hop is None:
            return "-"
        road = f" ({self.road})" if self.road else ""
        return f"{self.hop} {hop_name(self.hop, self.road)}{road}"

    @property
    def local_only(self) -> bool:
        """True when a run against a deployment cannot give it what it needs."""
        return bool(self.needs & LOCAL_ONLY)


def _check(
    name: str, hop: int | None, test: str, summary: str, *needs: Need, road: str = ""
) -> Check:
    return Check(name, hop, frozenset(needs), test, summary, road)


T, L, LOCAL, JOURNAL = Need.TRAFFIC, Need.LEDGER, Need.LOCAL_STACK, Need.STUB_JOURNAL
RULES, AM, MUT = Need.ALERT_RULES, Need.ALERTMANAGER, Need.MUTATIONS

CHECKS: Final[tuple[Check, ...]] = (
    # scrape health (e2e/test_scrape_health.py)
    _check("up-is-1", 2, "e2e.test_scrape_health::test_up_is_1_in_the_store",
           "up{job} == 1 in the store"),
    _check("alloy-target-healthy", 2,
           "e2e.test_scrape_health::test_alloy_reports_the_target_healthy",
           "Alloy's component API shows the backend target up"),
    _check("exempt-paths-plain-http", 1,
           "e2e.test_scrape_health::test_exempt_paths_answer_plain_http",
           "/metrics and the probes answer plain HTTP (per path)"),
    _check("chat-refused-over-plain-http", 1,
           "e2e.test_scrape_health::test_chat_over_plain_http_is_refused",
           "chat over plain HTTP gets 403 HTTPS_REQUIRED"),
    _check("chat-behind-tls-proxy", 1,
           "e2e.test_scrape_health::test_chat_behind_tls_proxy_passes_enforcement",
           "chat with X-Forwarded-Proto: https passes enforcement"),
    # the traffic and the counts (test_requests, test_latency, test_tokens, test_errors, test_http)
    _check("answered-as-planned", 1, "e2e.test_requests::test_traffic_was_answered_as_planned",
           "every request got its kind's answer", T),
    _check("request-counts", 5, "e2e.test_requests::test_request_counts_equal_the_ledger",
           "requests_total by provider and status equals the ledger", T, L),
    _check("cache-hit-split", 5, "e2e.test_requests::test_cache_hit_means_what_each_answer_said",
           "cache_hit is true exactly for the plan's repeats", T, L),
    _check("cache-hit-rate", 5, "e2e.test_requests::test_cache_hit_rate_is_the_share_of_cache_hits",
           "the cache-hit-rate gauge is the share of cache hits", T, L),
    _check("latency-count", 5, "e2e.test_latency::test_latency_count_equals_the_ledger",
           "the latency histogram's count equals the ledger", T, L),
    _check("latency-buckets", 5, "e2e.test_latency::test_latency_histogram_series_and_buckets",
           "the latency histogram has the contract's bounds", T),
    _check("latency-placed", 5,
           "e2e.test_latency::test_latency_observations_land_where_the_ledger_says",
           "each latency observation lands where its stub delay puts it", T, L),
    _check("p95-computable", 5, "e2e.test_latency::test_p95_latency_is_computable",
           "histogram_quantile(0.95) of the latency has a value", T),
    _check("token-sums", 5, "e2e.test_tokens::test_token_sums_equal_the_ledger",
           "token sums by type equal the planned usage", T, L),
    _check("token-counts", 5, "e2e.test_tokens::test_token_observations_equal_the_ledger",
           "one token observation per successful call", T, L),
    _check("token-buckets", 5,
           "e2e.test_tokens::test_token_observations_land_in_the_contract_buckets",
           "the token histogram has the contract's bounds and each usage in its bucket", T, L),
    _check("token-sums-as-reported", 5,
           "e2e.test_tokens::test_token_sums_equal_what_the_llm_reported",
           "token sums equal the usage the stub LLM's journal reports", T, L, JOURNAL),
    _check("error-counts", 5, "e2e.test_errors::test_errors_total_counts_each_injected_fault",
           "errors_total counts each injected fault", T, L),
    _check("error-labels", 5, "e2e.test_errors::test_error_labels_name_each_injected_fault",
           "each fault under the error_type and reason_code the contract gives it", T, L),
    _check("http-requests", 5, "e2e.test_http::test_http_requests_equal_the_ledger",
           "the HTTP requests counter equals every answer by method, route and status", T, L),
    _check("http-durations", 5, "e2e.test_http::test_http_durations_equal_the_ledger",
           "the HTTP duration histogram's count equals every answer", T, L),
    # the closed world (test_labels) and leaks (test_no_secrets)
    _check("series-labels", 5, "e2e.test_labels::test_series_carry_exactly_the_contract_labels",
           "every series of a family carries exactly the contract's labels (per family)", T),
    _check("label-values", 5, "e2e.test_labels::test_label_values_come_from_their_vocabulary",
           "every value of a label comes from its vocabulary (per label)", T),
    _check("no-secret-in-store-labels", 5, "e2e.test_no_secrets::test_no_secret_in_store_labels",
           "no canary, key fragment or secret shape in the store's labels", T),
    _check("no-secret-in-metrics", 1, "e2e.test_no_secrets::test_no_secret_in_backend_metrics",
           "no canary, key fragment or secret shape in the backend's /metrics", T),
    _check("no-secret-in-logs", None, "e2e.test_no_secrets::test_no_secret_in_logs",
           "no canary, key fragment or secret shape in a service's log (per service)", T, LOCAL),
    _check("series-budget", 5, "e2e.test_no_secrets::test_series_budget_per_metric",
           "no metric has more series than its budget", T),
    # the OTLP road (test_otlp)
    _check("otlp-llm-calls", 5, "e2e.test_otlp::test_llm_calls_equal_the_ledger",
           "the pushed LLM calls by status and error type equal the ledger", T, L, road=OTLP),
    _check("otlp-llm-durations", 5,
           "e2e.test_otlp::test_llm_call_durations_are_counted_in_the_contract_buckets",
           "the pushed call durations are counted in the contract's buckets", T, L, road=OTLP),
    _check("otlp-llm-tokens", 5, "e2e.test_otlp::test_llm_tokens_equal_the_ledger",
           "the pushed tokens equal the planned usage", T, L, road=OTLP),
    _check("otlp-rate-limit-gauges", 5,
           "e2e.test_otlp::test_rate_limit_gauges_show_the_latest_headers",
           "the rate-limit gauges show the LLM's latest headers", T, road=OTLP),
    _check("otlp-span-calls", 5, "e2e.test_otlp::test_span_calls_equal_the_ledger",
           "the chat span's calls by status equal the ledger", T, L, road=OTLP),
    _check("otlp-span-durations", 5,
           "e2e.test_otlp::test_span_durations_are_counted_in_the_contract_buckets",
           "the chat span's durations are counted in the contract's buckets", T, L, road=OTLP),
    _check("otlp-series-labels", 5,
           "e2e.test_otlp::test_otlp_series_carry_exactly_the_contract_labels",
           "every OTLP series carries exactly the contract's labels (per family)", T, road=OTLP),
    _check("otlp-label-values", 5,
           "e2e.test_otlp::test_otlp_label_values_come_from_their_vocabulary",
           "every OTLP label value comes from the road's vocabulary (per label)", T, road=OTLP),
    # dashboards (test_dashboards)
    _check("panel-has-data", 5, "e2e.test_dashboards::test_panel_has_data",
           "a dashboard panel returns data over the run (per panel)", T),
    _check("fixture-dashboard-seed-panels", None,
           "e2e.test_dashboards::test_fixture_dashboard_has_the_seed_panels",
           "the fixture dashboard keeps the seed's panels"),
    # alert rules (test_alerts)
    _check("no-rule-holds-on-healthy", 5,
           "e2e.test_alerts::test_no_alert_rule_holds_on_the_healthy_pipeline",
           "no alerting rule holds, errors or lacks data on the healthy stack", T, RULES),
    _check("a-rule-notices-the-incident", 5,
           "e2e.test_alerts::test_a_rule_notices_the_seed_incident",
           "a rule holds on the seed incident and not on the healthy stack", RULES, LOCAL),
    _check("incident-alert-reaches-a-receiver", None,
           "e2e.test_alerts::test_the_incident_alert_reaches_a_receiver",
           "the noticing alert reaches a receiver that pages", RULES, LOCAL, AM),
    _check("proof-noisy-rule-named", None, "e2e.test_alerts::test_the_judgement_names_a_noisy_rule",
           "proof: an `or vector(0)` rule is named noisy", T, RULES, LOCAL),
    _check("proof-incident-unnoticed-named", None,
           "e2e.test_alerts::test_the_judgement_names_the_incident_unnoticed",
           "proof: rules without the covering ones leave the incident unnoticed", RULES, LOCAL),
    _check("proof-alert-copy-fails", None,
           "e2e.test_alerts::test_a_copy_without_the_covering_rules_and_with_a_noisy_rule_fails",
           "proof: the whole suite fails on a copy of our rules made wrong", RULES, LOCAL, MUT),
    # proofs of the suite on stacks of their own
    _check("seed-incident-named", 1,
           "e2e.test_seed_incident::test_up_check_names_http_403_and_fails_fast",
           "proof: the seed incident fails up == 1 naming HTTP 403", LOCAL),
    _check("external-mode-passes-healthy", None,
           "e2e.test_external_mode::test_external_mode_passes_against_a_healthy_deployment",
           "proof: external mode passes against a healthy deployment", LOCAL),
    _check("external-mode-catches-incident", None,
           "e2e.test_external_mode::test_external_mode_catches_the_seed_incident",
           "proof: external mode fails against the seed incident naming HTTP 403", LOCAL),
    _check("own-pipeline-components", None,
           "e2e.test_own_pipeline::test_the_config_names_the_components_the_suite_verifies",
           "proof: a production-style Alloy config's components are found", LOCAL, MUT),
    _check("own-pipeline-counts", None,
           "e2e.test_own_pipeline::test_the_production_style_config_counts_every_request",
           "proof: a production-style Alloy config counts every request", LOCAL, MUT),
    _check("own-pipeline-panels", None,
           "e2e.test_own_pipeline::test_every_panel_of_the_production_dashboards_has_data",
           "proof: every panel of the production dashboards has data", LOCAL, MUT),
    _check("own-pipeline-broken-job", None,
           "e2e.test_own_pipeline::test_a_broken_backend_scrape_job_fails_naming_its_component",
           "proof: a broken scrape job fails naming its component", LOCAL, MUT),
    _check("own-pipeline-rejected-config", None,
           "e2e.test_own_pipeline::test_a_config_alloy_rejects_exits_4_at_once_with_alloys_error",
           "proof: a config Alloy rejects exits 4 with Alloy's error", LOCAL, MUT),
    _check("own-pipeline-unwired-receiver", None,
           "e2e.test_own_pipeline::test_an_otlp_receiver_whose_metrics_go_nowhere_exits_4_naming_it_and_its_line",
           "proof: an OTLP receiver wired nowhere exits 4 naming it", LOCAL, MUT),
    _check("deviation-failures-as-success", None,
           "e2e.test_deviations::test_failures_counted_as_success_fail_the_status_checks_only",
           "proof: failures counted as success fail the status checks only", LOCAL, MUT),
    _check("deviation-no-error-counter", None,
           "e2e.test_deviations::test_an_error_counter_never_created_fails_the_error_checks_and_panels_only",
           "proof: an error counter never created fails its checks and panels only", LOCAL, MUT),
    _check("deviation-both", None,
           "e2e.test_deviations::test_a_fallback_counted_as_success_without_error_counter_fails_both",
           "proof: both deviations at once fail both", LOCAL, MUT),
    _check("deviation-accepted", None,
           "e2e.test_deviations::test_a_contract_that_accepts_the_deviation_passes_saying_so",
           "proof: a contract accepting the deviation passes saying so", LOCAL, MUT),
    _check("deviation-no-faults", None,
           "e2e.test_deviations::test_a_plan_without_faults_demands_no_error",
           "proof: a plan without faults demands no error", LOCAL, MUT),
    _check("deviation-panels-not-accepted", None,
           "e2e.test_deviations::test_accepting_the_counting_does_not_accept_empty_panels",
           "proof: accepting the counting does not accept empty panels", LOCAL, MUT),
    _check("deviation-error-panels", None,
           "e2e.test_deviations::test_the_dashboard_has_panels_over_the_error_counter",
           "proof: the dashboard has panels over the error counter", MUT),
    _check("deviation-cumulative-cache-label", None,
           "e2e.test_deviations::test_a_cumulative_cache_label_fails_the_cache_split_only_at_once_naming_the_pattern",
           "proof: a cumulative cache label fails the cache split only, at once", LOCAL, MUT),
    # the mutation harness (test_mutations)
    _check("variant-killed-precisely", None, "e2e.test_mutations::test_variant_is_killed_precisely",
           "the suite fails exactly a variant's expected checks (per variant)", LOCAL, MUT),
    _check("no-wait-reaches-its-deadline", None,
           "e2e.test_mutations::test_no_wait_of_any_variant_reaches_its_deadline",
           "no variant's wait ends by deadline", LOCAL, MUT),
    _check("every-check-is-a-kill", None,
           "e2e.test_mutations::test_every_suite_test_is_some_variant_s_kill",
           "every check of the suite is some variant's kill", LOCAL, MUT),
    _check("failure-classes-page", None,
           "e2e.test_mutations::test_every_failure_class_pages_or_the_contract_says_why_not",
           "every must-page failure class is noticed; the others have a reason", RULES, LOCAL, MUT),
    _check("proof-scanium-like-coverage", None,
           "e2e.test_mutations::test_the_coverage_names_what_scanium_like_rules_leave_unnoticed",
           "proof: Scanium-like rules leave every must-page class unnoticed", RULES, LOCAL, MUT),
)  # fmt: skip

BY_NAME: Final[Mapping[str, Check]] = {check.name: check for check in CHECKS}
BY_TEST: Final[Mapping[str, Check]] = {check.test: check for check in CHECKS}


def check_of(test_id: str) -> Check | None:
    """The check a test id (`e2e.test_x::test_y[param]` or pytest's `e2e/test_x.py::…`)
    belongs to, or None."""
    base = test_id.split("[", 1)[0]
    if ".py::" in base:
        path, _, name = base.partition(".py::")
        base = f"{path.replace('/', '.')}::{name}"
    return BY_TEST.get(base)


def resolve(ref: str) -> str:
    """The test id of a check reference `name` or `name[param]`; KeyError naming the
    reference when no check has that name."""
    name, bracket, rest = ref.partition("[")
    check = BY_NAME.get(name)
    if check is None:
        raise KeyError(f"no check is named {name!r}")
    return check.test_id(rest[:-1] if bracket else "")


def unregistered(test_ids: Iterable[str]) -> list[str]:
    """The collected tests (JUnit ids) that are no registered check."""
    return sorted({tid for tid in test_ids if check_of(tid) is None})
