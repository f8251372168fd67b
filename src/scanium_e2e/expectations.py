"""What a traffic run must add to each metric the contract names: the one home of that arithmetic.

The checks compare the store against it (`checks/expectations.py`, `checks/counts.py`) and
`scanium-e2e traffic` prints it, so both say the same numbers under the same names, whichever
contract is in use. It reads only the contract and the ledger, so it sits between traffic and
checks: traffic never imports it, and it never imports the checks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from scanium_e2e.contract import Contract
from scanium_e2e.traffic.ledger import Ledger
from scanium_e2e.traffic.run import Counts

# The counts the ledger predicts exactly, and those that exist only with an errors counter.
COUNT_ROLES: Final[tuple[str, ...]] = (
    "requests",
    "latency_count",
    "tokens_sum",
    "tokens_count",
    "errors",
    "errors_by_type",
    "http_requests",
    "http_duration_count",
)
# The HTTP layer's counts (contract `http`): every answer by method, route and status.
HTTP_ROLES: Final[tuple[str, ...]] = ("http_requests", "http_duration_count")
HTTP_LABELS: Final[tuple[str, ...]] = ("method", "route", "status_code")
ERROR_ROLES: Final[tuple[str, ...]] = ("errors", "errors_by_type")
# The OTLP road's counts (contract `otlp`): the LLM calls, their durations and tokens as the
# backend pushes them, and the span metrics of its chat requests.
OTLP_COUNT_ROLES: Final[tuple[str, ...]] = (
    "otlp_requests",
    "otlp_duration_count",
    "otlp_tokens",
    "span_calls",
    "span_duration_count",
)
# Which OTLP family each count reads (contract.otlp.families).
OTLP_FAMILY_OF: Final[Mapping[str, str]] = {
    "otlp_requests": "requests",
    "otlp_duration_count": "duration",
    "otlp_tokens": "tokens",
    "span_calls": "span_calls",
    "span_duration_count": "span_duration",
}


def metric_queries(contract: Contract) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Role -> (series name, grouping labels) of every count the ledger predicts, and of the
    histograms' buckets and latency sums (their baselines are taken with the counts')."""
    return {
        "requests": (contract.requests.name, ("provider", "status")),
        "latency_count": (contract.latency.name + "_count", ("provider", "status")),
        "tokens_sum": (contract.tokens.name + "_sum", ("provider", "token_type")),
        "tokens_count": (contract.tokens.name + "_count", ("provider", "token_type")),
        "errors": (contract.errors.name, ("provider",)),
        "errors_by_type": (contract.errors.name, ("provider", "error_type", "reason_code")),
        # The cache split is judged against the total, not the plan (checks/cache.py).
        "requests_by_cache": (contract.requests.name, (contract.cache.label,)),
        # Not counts the ledger predicts exactly, but read against a baseline all the same
        # (checks/histograms.py: where each observation lands).
        "latency_buckets": (contract.latency.name + "_bucket", ("provider", "status", "le")),
        "latency_sum": (contract.latency.name + "_sum", ("provider", "status")),
        "tokens_buckets": (contract.tokens.name + "_bucket", ("provider", "token_type", "le")),
        **http_queries(contract),
        **otlp_queries(contract),
    }


def http_queries(contract: Contract) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Role -> (series name, grouping labels) of the HTTP counts, when the contract has
    the HTTP layer (`http`) and its two families."""
    families = contract.families
    if contract.http is None or not {"http_requests", "http_duration"} <= set(families):
        return {}
    return {
        "http_requests": (families["http_requests"].name, HTTP_LABELS),
        "http_duration_count": (families["http_duration"].name + "_count", HTTP_LABELS),
    }


def query_filters(contract: Contract) -> dict[str, str]:
    """Role -> label matchers its query adds beyond this run's scope: the HTTP counts leave
    out the routes others request (scrapes, probes), whose counts are not the ledger's."""
    if contract.http is None or not contract.http.others:
        return {}
    others = "|".join(re.escape(route) for route in contract.http.others)
    return dict.fromkeys(http_queries(contract), f'route!~"{others}"')


def planned_http(ledger: Ledger, contract: Contract) -> dict[str, Counts]:
    """What the traffic adds to each HTTP count: every answer the ledger got, by the method
    and route template the contract says the backend labels its kind with, and the status
    that came back (each 429 answered before a retry too)."""
    if not http_queries(contract):
        return {}
    assert contract.http is not None
    counts: Counts = {}
    for entry in ledger.entries:
        route = contract.http.unknown if entry.kind == "unknown_route" else contract.http.chat
        answers = [str(entry.http_status)] if entry.http_status is not None else []
        for status in [*answers, *["429"] * entry.retries]:
            key = (route.method, route.route, status)
            counts[key] = counts.get(key, 0.0) + 1
    ordered = dict(sorted(counts.items()))
    return {"http_requests": ordered, "http_duration_count": dict(ordered)}


def otlp_queries(contract: Contract) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Role -> (series name, grouping labels) of the OTLP counts the contract's road has."""
    if contract.otlp is None:
        return {}
    families = contract.otlp.families
    queries = {
        "otlp_requests": (families["requests"].name, ("status", "error_type")),
        "otlp_duration_count": (families["duration"].name + "_count", ("status",)),
        "otlp_tokens": (families["tokens"].name, ("token_type",)),
    }
    if "span_calls" in families:
        queries["span_calls"] = (families["span_calls"].name, ("span_name", "status_code"))
    if "span_duration" in families:
        queries["span_duration_count"] = (
            families["span_duration"].name + "_count",
            ("span_name", "status_code"),
        )
    return queries


def planned_otlp(ledger: Ledger, contract: Contract) -> dict[str, Counts]:
    """What the traffic must add to each OTLP count (`otlp_queries`), from what was sent.

    Each success and each injected fault is one LLM call (a cache repeat makes none): its
    outcome under `status`, a fault's type (the contract's `faults`, else the answer's)
    under `error_type`; a success's planned usage per token type. Each chat request the
    backend handles is one span: a reply (successes and cache repeats), an LLM failure
    (the faults), or refused (validation and authentication failures, and every 429 the
    run was answered before its retry), with the status the contract's `otlp.spans` gives it.
    """
    if contract.otlp is None:
        return {}
    successes = [entry for entry in ledger.entries if entry.kind == "success"]
    errors = [entry for entry in ledger.entries if entry.kind == "provider_error"]
    calls: Counts = {}
    if successes:
        calls[(contract.status_success, "")] = float(len(successes))
    for entry in errors:
        spec = contract.faults.get(entry.fault or "")
        key = (contract.status_error, spec.error_type if spec is not None else entry.error_type)
        calls[key] = calls.get(key, 0.0) + 1
    durations: Counts = {}
    for (status, _), value in calls.items():
        durations[(status,)] = durations.get((status,), 0.0) + value
    tokens_in = sum(entry.planned_input_tokens or 0 for entry in successes)
    tokens_out = sum(entry.planned_output_tokens or 0 for entry in successes)
    tokens: Counts = {}
    if successes:
        per_type = {"input": tokens_in, "output": tokens_out, "total": tokens_in + tokens_out}
        tokens = {(token_type,): float(per_type[token_type]) for token_type in per_type}
    planned = {"otlp_requests": calls, "otlp_duration_count": durations, "otlp_tokens": tokens}
    spans = contract.otlp.spans
    if spans is not None:
        kinds = [entry.kind for entry in ledger.entries]
        outcomes = {
            "reply": kinds.count("success") + kinds.count("cache_repeat"),
            "llm_failure": len(errors),
            "refused": kinds.count("validation_error")
            + kinds.count("unauthorized")
            + sum(entry.retries for entry in ledger.entries if entry.kind != "unknown_route"),
        }
        span_counts: Counts = {
            (spans.name, spans.status[outcome]): float(count)
            for outcome, count in outcomes.items()
            if count
        }
        planned["span_calls"] = span_counts
        planned["span_duration_count"] = dict(span_counts)
    return planned


def planned_rate_limits(ledger: Ledger) -> tuple[int, int] | None:
    """The remaining (requests, tokens) the backend's rate-limit gauges must show: what the
    last successes' answers stated (the plan gives every success of a wave the same)."""
    stated = [
        entry for entry in ledger.entries if entry.kind == "success" and entry.planned_rate_limits
    ]
    if not stated:
        return None
    return max(stated, key=lambda entry: entry.sent_at).planned_rate_limits


def planned_counts(ledger: Ledger, contract: Contract) -> dict[str, Counts]:
    """What the traffic plan should add to each count (a role of `COUNT_ROLES`), from what
    was *sent*.

    Expectations come from the kinds of requests sent (a success, an injected provider
    fault), not from the backend's answers, so a backend that mislabels its own outcome
    cannot make its metrics look right. The contract's failure accounting says where the
    faults go: status=error (ours), status=success, or nowhere; and whether the errors
    counter counts them, and the contract's `faults` under which error_type and reason_code
    (without an entry for a fault: as the backend's answer named it). A cache repeat is a
    success without an LLM call (no tokens). A kind the plan sent none of is expected
    nowhere.
    """
    provider = ledger.provider
    successes = [entry for entry in ledger.entries if entry.kind == "success"]
    repeats = [entry for entry in ledger.entries if entry.kind == "cache_repeat"]
    errors = [entry for entry in ledger.entries if entry.kind == "provider_error"]
    accounting = contract.failures
    statuses: Counts = {}
    if successes or repeats:
        statuses[(provider, contract.status_success)] = float(len(successes) + len(repeats))
    if errors and accounting.recorded_as != "not_recorded":
        status = (
            contract.status_error if accounting.recorded_as == "error" else contract.status_success
        )
        statuses[(provider, status)] = statuses.get((provider, status), 0.0) + len(errors)
    tokens_in = sum(entry.planned_input_tokens or 0 for entry in successes)
    tokens_out = sum(entry.planned_output_tokens or 0 for entry in successes)
    per_type = {"input": tokens_in, "output": tokens_out, "total": tokens_in + tokens_out}
    tokens_sum: Counts = {}
    tokens_count: Counts = {}
    if successes:
        for token_type in contract.token_types:
            tokens_sum[(provider, token_type)] = float(per_type.get(token_type, 0))
            tokens_count[(provider, token_type)] = float(len(successes))
    by_type: Counts = {}
    if accounting.error_counter:
        for entry in errors:
            spec = contract.faults.get(entry.fault or "")
            key = (
                (provider, spec.error_type, spec.reason_code)
                if spec is not None
                else (provider, entry.error_type, entry.code)
            )
            by_type[key] = by_type.get(key, 0.0) + 1
    return {
        "requests": statuses,
        "latency_count": dict(statuses),
        "tokens_sum": tokens_sum,
        "tokens_count": tokens_count,
        "errors": {(provider,): float(len(errors))} if errors and accounting.error_counter else {},
        "errors_by_type": by_type,
        **planned_http(ledger, contract),
        **planned_otlp(ledger, contract),
    }


@dataclass(frozen=True)
class ExpectedIncrease:
    """One series the run must raise, and by how much: a line of the traffic printout."""

    metric: str
    labels: tuple[tuple[str, str], ...]
    increase: float

    @property
    def selector(self) -> str:
        """`metric{label="value",...}`, as PromQL and the exposition format write it."""
        inside = ",".join(f'{name}="{value}"' for name, value in self.labels)
        return f"{self.metric}{{{inside}}}"

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form (for `--json-ledger`)."""
        return {"metric": self.metric, "labels": dict(self.labels), "increase": self.increase}


# The printout's order: each request's counter and latency observation side by side, then
# each token type's sum and count, then the errors by type (their per-provider total, the
# `errors` role, adds nothing a reader needs).
_SHOWN: Final[tuple[tuple[str, ...], ...]] = (
    ("requests", "latency_count"),
    ("tokens_sum", "tokens_count"),
    ("errors_by_type",),
    ("http_requests", "http_duration_count"),
)


def expected_increases(ledger: Ledger, contract: Contract) -> list[ExpectedIncrease]:
    """`planned_counts` as series of the contract's metrics, in the printout's order."""
    planned = planned_counts(ledger, contract)
    queries = metric_queries(contract)
    increases = []
    for roles in _SHOWN:
        for key in planned.get(roles[0], {}):
            for role in roles:
                metric, by = queries[role]
                counts: Mapping[tuple[str, ...], float] = planned[role]
                if key in counts:
                    labels = tuple(zip(by, key, strict=True))
                    increases.append(ExpectedIncrease(metric, labels, counts[key]))
    return increases
