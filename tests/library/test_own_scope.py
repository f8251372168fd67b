"""With the user's Alloy config, checks use the components found in it, a finding names
its component, and this run's series are scoped without a run_id label."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import cast

from scanium_e2e.contract import load_contract
from scanium_e2e.findings import Finding, Kind
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.secrets import Masker
from scanium_e2e.settings import REPO_ROOT, Settings
from scanium_e2e.stack import Stack, StackEndpoints
from scanium_e2e.stack.alloy_config import PipelineComponents

CONTRACT = load_contract(REPO_ROOT / "fixtures" / "contract.json")
FOUND = PipelineComponents(
    scrape="prometheus.scrape.scanium_api",
    job="scanium-api",
    target="scanium-api.prod:8080",
    metrics_path="/metrics",
    remote_write="prometheus.remote_write.mimir_prod",
    remote_write_url="http://mimir-distributor:9009/api/v1/push",
    scrape_interval_s=15.0,
)


def connect(settings: Settings, components: PipelineComponents | None) -> Pipeline:
    endpoints = StackEndpoints("http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3")
    stack = cast(Stack, SimpleNamespace(endpoints=endpoints, components=components))
    return Pipeline.connect(settings, CONTRACT, stack, Masker())


def test_our_config_is_scoped_by_run_id_with_the_contracts_ids() -> None:
    pipeline = connect(Settings(run_id="run-1"), None)
    assert pipeline.selector("up") == 'up{job="scanium-backend",run_id="run-1"}'
    assert pipeline.contract.scrape.component == "prometheus.scrape.backend"


def test_the_users_config_is_scoped_by_its_job_with_its_ids_and_interval() -> None:
    settings = Settings(run_id="run-1", alloy_config=Path("mine.alloy"), data_timeout_s=10)
    pipeline = connect(settings, FOUND)
    assert pipeline.selector("up") == 'up{job="scanium-api"}'
    assert pipeline.contract.scrape.component == "prometheus.scrape.scanium_api"
    assert pipeline.contract.scrape.remote_write_component == "prometheus.remote_write.mimir_prod"
    assert pipeline.settings.scrape_interval_s == 15.0
    # Two scrapes and Alloy's 15 s remote-write wake-up fit in the data wait.
    assert pipeline.settings.data_timeout_s == 60.0


def test_a_finding_about_a_target_names_its_component() -> None:
    finding = Finding(
        Kind.HTTP_STATUS,
        subject="scanium-api.prod:8080/metricz",
        seen="404 Not Found",
        detail="server returned HTTP status 404 Not Found",
        hop=2,
        component="prometheus.scrape.scanium_api",
    )
    assert finding.render() == (
        "prometheus.scrape.scanium_api: Alloy's scrape of scanium-api.prod:8080/metricz got "
        "HTTP 404 Not Found (server returned HTTP status 404 Not Found)"
    )
