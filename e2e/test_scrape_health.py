"""Scrape health: Alloy scrapes the backend, Mimir has `up == 1`, HTTPS policy holds."""

from __future__ import annotations

import httpx
import pytest

from scanium_e2e.checks.scrape import wait_for_up
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.verdict.diagnose import hop_alloy_scrape

PLAIN_HTTP_OPEN = ("/metrics", "/health", "/healthz", "/readyz")


def test_up_is_1_in_the_store(pipeline: Pipeline) -> None:
    """The seed's first verification: up{job="scanium-backend"} == 1."""
    result = wait_for_up(pipeline)
    assert result.value and any(sample.value == 1 for sample in result.value)


def test_alloy_reports_the_target_healthy(pipeline: Pipeline) -> None:
    """Alloy's component API shows the backend target up, with no scrape error."""
    wait_for_up(pipeline)
    report = hop_alloy_scrape(pipeline)
    assert report.status == "ok", report.line()
    targets = pipeline.alloy.scrape_targets(pipeline.contract.scrape.component)
    assert all(target.up and not target.last_error for target in targets), targets


@pytest.mark.parametrize("path", PLAIN_HTTP_OPEN)
def test_exempt_paths_answer_plain_http(pipeline: Pipeline, path: str) -> None:
    """Scrapers and probes speak plain HTTP: these paths must not demand HTTPS."""
    response = httpx.get(pipeline.endpoints.backend_url + path, timeout=5.0)
    assert response.status_code == 200, f"GET {path}: HTTP {response.status_code} {response.text}"


def test_chat_over_plain_http_is_refused(pipeline: Pipeline) -> None:
    """The API itself stays behind HTTPS enforcement: 403 HTTPS_REQUIRED."""
    response = httpx.post(
        pipeline.endpoints.backend_url + "/v1/assist/chat",
        json={"items": [], "message": "plain http"},
        headers={"X-API-Key": pipeline.settings.api_key},
        timeout=5.0,
    )
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "HTTPS_REQUIRED"


def test_chat_behind_tls_proxy_passes_enforcement(pipeline: Pipeline) -> None:
    """With X-Forwarded-Proto: https the request passes enforcement and reaches auth.

    A wrong key keeps it from reaching the assistant, so it records no metric.
    """
    response = httpx.post(
        pipeline.endpoints.backend_url + "/v1/assist/chat",
        json={"items": [], "message": "behind proxy"},
        headers={"X-API-Key": "wrong-key-for-policy-test", "X-Forwarded-Proto": "https"},
        timeout=5.0,
    )
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
