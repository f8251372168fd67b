"""No secrets or PII: the canaries the traffic planted, the run's API key and anything
shaped like a credential or an e-mail must appear nowhere downstream.

Checked: every label name and value of this run's series in Mimir, every line of the
backend's /metrics, and every line of the backend's and Alloy's logs. A per-metric series
budget catches unbounded labels (a raw URL or user text as a label value).
"""

from __future__ import annotations

import pytest

from scanium_e2e.checks import no_secrets
from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.traffic.run import TrafficRun


@pytest.fixture(scope="module")
def series(pipeline: Pipeline, settlement: CountSettlement) -> list[dict[str, str]]:
    """Every series of this run in Mimir, once all the traffic is counted."""
    return no_secrets.run_series(pipeline, settlement)


def test_no_secret_in_store_labels(
    pipeline: Pipeline, traffic: TrafficRun, series: list[dict[str, str]]
) -> None:
    """No canary, key or secret-shaped text in any label name or value of this run."""
    no_secrets.no_secrets_in_labels(pipeline, traffic, series)


def test_no_secret_in_backend_metrics(pipeline: Pipeline, sent_traffic: TrafficRun) -> None:
    """No canary, key or secret-shaped text in any line of the backend's /metrics."""
    no_secrets.no_secrets_in_metrics_text(pipeline, sent_traffic)


@pytest.mark.parametrize("service", ["backend", "alloy"])
def test_no_secret_in_logs(pipeline: Pipeline, sent_traffic: TrafficRun, service: str) -> None:
    """No canary, key or secret-shaped text in any line of the service's log."""
    if not pipeline.stack.started_here:
        pytest.skip("external mode: the deployment's logs are not reachable from here")
    no_secrets.no_secrets_in_log(pipeline, sent_traffic, service)


def test_series_budget_per_metric(pipeline: Pipeline, series: list[dict[str, str]]) -> None:
    """No metric has more series than its budget: unbounded labels would blow it."""
    no_secrets.series_within_budget(pipeline, series)
