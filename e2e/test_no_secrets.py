"""No secrets or PII: the canaries the traffic planted, the run's API key and anything
shaped like a credential or an e-mail must appear nowhere downstream.

Checked: every label name and value of this run's series in Mimir, every line of the
backend's /metrics, and every line of the backend's and Alloy's logs. A per-metric series
budget catches unbounded labels (a raw URL or user text as a label value).
"""

from __future__ import annotations

import pytest

from scanium_e2e.checks import TrafficRun, wait_for_planned
from scanium_e2e.leaks import scan_lines, scan_series_labels, series_of_run, series_over_budget
from scanium_e2e.mimir import utc_now
from scanium_e2e.pipeline import Pipeline


def secrets_of(pipeline: Pipeline, traffic: TrafficRun) -> list[str]:
    planted = traffic.ledger.planted()
    assert planted, "the traffic planted no canaries: this check would prove nothing"
    return [*planted, *pipeline.settings.secrets()]


@pytest.fixture(scope="module")
def run_series(pipeline: Pipeline, traffic: TrafficRun) -> list[dict[str, str]]:
    """Every series of this run in Mimir, once all the traffic is counted."""
    wait_for_planned(pipeline, traffic, "requests")
    series = series_of_run(pipeline.mimir, pipeline.scope(), pipeline.started_at, utc_now())
    assert series, "no series of this run in Mimir"
    return series


def test_no_secret_in_mimir_labels(
    pipeline: Pipeline, traffic: TrafficRun, run_series: list[dict[str, str]]
) -> None:
    """No canary, key or secret-shaped text in any label name or value of this run."""
    leaks = scan_series_labels(run_series, secrets_of(pipeline, traffic))
    assert not leaks, "\n".join(leak.describe() for leak in leaks)


def test_no_secret_in_backend_metrics(pipeline: Pipeline, traffic: TrafficRun) -> None:
    """No canary, key or secret-shaped text in any line of the backend's /metrics."""
    response = pipeline.backend_metrics()
    assert response.status_code == 200, response.text[:200]
    leaks = scan_lines("backend /metrics", response.text, secrets_of(pipeline, traffic))
    assert not leaks, "\n".join(leak.describe() for leak in leaks)


@pytest.mark.parametrize("service", ["backend", "alloy"])
def test_no_secret_in_logs(pipeline: Pipeline, traffic: TrafficRun, service: str) -> None:
    """No canary, key or secret-shaped text in any line of the service's log."""
    if not pipeline.stack.started_here:
        pytest.skip("external mode: the deployment's logs are not reachable from here")
    log = pipeline.stack.logs(service, masked=False)
    assert log.strip(), f"{service} wrote no log at all: nothing was scanned"
    leaks = scan_lines(f"{service} log", log, secrets_of(pipeline, traffic))
    assert not leaks, "\n".join(leak.describe() for leak in leaks)


def test_series_budget_per_metric(pipeline: Pipeline, run_series: list[dict[str, str]]) -> None:
    """No metric has more series than its budget: unbounded labels would blow it."""
    over = series_over_budget(
        run_series,
        dict(pipeline.contract.series_budget),
        pipeline.contract.series_budget_default,
    )
    assert not over, ", ".join(
        f"{name}: {count} series (budget {budget})" for name, (count, budget) in over.items()
    )
