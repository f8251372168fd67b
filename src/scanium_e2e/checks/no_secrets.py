"""No secret or PII in the store's labels, the backend's /metrics or the services' logs."""

from __future__ import annotations

from scanium_e2e.checks import leaks
from scanium_e2e.checks.counts import wait_until_settled
from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.checks.waits import fail_with_diagnosis
from scanium_e2e.clients.query import utc_now
from scanium_e2e.errors import CheckFailed
from scanium_e2e.findings import Finding, Kind
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.secrets import RunSecrets
from scanium_e2e.traffic.run import TrafficRun


def planted_secrets(pipeline: Pipeline, run: TrafficRun) -> RunSecrets:
    """The canaries of `run` and the run's own credentials, whole and in fragments."""
    planted = run.ledger.planted()
    if not planted:
        raise CheckFailed("the traffic planted no canaries: a leak check would prove nothing")
    secrets = RunSecrets()
    for value in planted:
        secrets.add_canary(value)
    for credential in pipeline.settings.secrets():
        secrets.add(credential)
    return secrets


def run_series(pipeline: Pipeline, settlement: CountSettlement) -> list[dict[str, str]]:
    """Every series of this run in Mimir, once all the traffic is counted."""
    wait_until_settled(pipeline, settlement, "requests")
    series = leaks.series_of_run(pipeline.store, pipeline.scope(), pipeline.started_at, utc_now())
    if not series:
        raise fail_with_diagnosis(pipeline, f"no series of this run in {pipeline.store_name}")
    return series


def no_secrets_in_labels(pipeline: Pipeline, run: TrafficRun, series: list[dict[str, str]]) -> None:
    """No canary, key or secret-shaped text in any label name or value of this run."""
    found = leaks.scan_series_labels(series, planted_secrets(pipeline, run))
    leaks.fail_on_leaks("secrets in the store's labels", found, pipeline.masker)


def no_secrets_in_metrics_text(pipeline: Pipeline, run: TrafficRun) -> None:
    """No canary, key or secret-shaped text in any line of the backend's /metrics, read
    after the traffic ended (a reading the diagnosis began since then serves: a slow
    /metrics is read once)."""
    reading = pipeline.recent_backend_metrics(not_before=run.ledger.finished_at)
    response = reading.response
    if response is None:
        raise fail_with_diagnosis(pipeline, f"backend /metrics could not be read: {reading.error}")
    if response.status_code != 200:
        raise fail_with_diagnosis(pipeline, f"backend /metrics answered {response.status_code}")
    found = leaks.scan_lines("backend /metrics", response.text, planted_secrets(pipeline, run))
    leaks.fail_on_leaks("secrets in the backend's /metrics", found, pipeline.masker)


def no_secrets_in_log(pipeline: Pipeline, run: TrafficRun, service: str) -> None:
    """No canary, key or secret-shaped text in any line of a started service's log."""
    log = pipeline.stack.logs(service, masked=False)
    if not log.strip():
        raise CheckFailed(f"{service} wrote no log at all: nothing was scanned")
    found = leaks.scan_lines(f"{service} log", log, planted_secrets(pipeline, run))
    leaks.fail_on_leaks(f"secrets in the {service} log", found, pipeline.masker)


def series_within_budget(pipeline: Pipeline, series: list[dict[str, str]]) -> None:
    """No metric has more series than its budget: unbounded labels would blow it."""
    contract = pipeline.contract
    over = leaks.series_over_budget(
        series, dict(contract.series_budget), contract.series_budget_default
    )
    if over:
        finding = Finding(
            Kind.SERIES_OVER_BUDGET,
            subject=", ".join(sorted(over)),
            detail=", ".join(f"{name}: {n} series (budget {b})" for name, (n, b) in over.items()),
            hop=5,
        )
        raise CheckFailed(finding.render(), (finding,))
