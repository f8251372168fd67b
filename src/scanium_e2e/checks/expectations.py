"""What the ledger says each count must rise by: the arithmetic from what was sent."""

from __future__ import annotations

from scanium_e2e.contract import Contract
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.traffic import Ledger
from scanium_e2e.traffic.run import Counts


def count_queries(pipeline: Pipeline) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Role -> (metric, grouping labels) of every count the ledger predicts, and of the
    histograms' buckets and latency sums (their baselines are taken with the counts')."""
    contract = pipeline.contract
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
    }


def planned_counts(ledger: Ledger, contract: Contract) -> dict[str, Counts]:
    """What the traffic plan should add to each count, from what was *sent*.

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
    }


def accepted_accounting(ledger: Ledger, contract: Contract) -> str | None:
    """Why the status counts held only by the contract's leave, or None when they did not.

    A contract whose failures are recorded other than as status=error accepts that on
    purpose; a run that injected faults says so instead of passing silently.
    """
    accounting = contract.failures
    faults = ledger.count("provider_error")
    if not faults or accounting.recorded_as == "error":
        return None
    where = (
        f"as status={contract.status_success}"
        if accounting.recorded_as == "success"
        else "nowhere in the requests metrics"
    )
    return (
        f"{faults} injected LLM failures were counted {where} "
        f"({contract.source}: failures.recorded_as={accounting.recorded_as})"
    )


COUNT_ROLES = (
    "requests",
    "latency_count",
    "tokens_sum",
    "tokens_count",
    "errors",
    "errors_by_type",
)
# Roles that exist only when the backend has an errors counter.
ERROR_ROLES = ("errors", "errors_by_type")
