"""Scrape health: Alloy scrapes the backend, Mimir has `up == 1`, HTTPS policy holds."""

from __future__ import annotations

import httpx
import pytest

from scanium_e2e.checks.scrape import wait_for_up
from scanium_e2e.errors import CheckFailed
from scanium_e2e.findings import Finding, Kind
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
    url = pipeline.endpoints.backend_url + path
    if path == pipeline.contract.scrape.metrics_path:
        # The plain-HTTP read the diagnosis may just have made (a slow /metrics is read once).
        reading = pipeline.recent_backend_metrics()
        if reading.response is None:
            failure = Finding(
                Kind.UNREACHABLE, subject=url, detail=type(reading.error).__name__, hop=1
            )
            raise CheckFailed(failure.render(), (failure,))
        response = reading.response
    else:
        response = httpx.get(url, timeout=5.0)
    if response.status_code != 200:
        finding = Finding(
            Kind.HTTP_STATUS,
            subject=url,
            expected="200",
            seen=str(response.status_code),
            detail=response.text[:200],
            hop=1,
        )
        raise CheckFailed(finding.render(), (finding,))


# Late: a backend that does not enforce HTTPS handles this request, and its chat span would
# be one the ledger does not explain while the span metrics are counted.
@pytest.mark.late
def test_chat_over_plain_http_is_refused(pipeline: Pipeline) -> None:
    """The API itself stays behind HTTPS enforcement: 403 HTTPS_REQUIRED."""
    url = pipeline.endpoints.backend_url + "/v1/assist/chat"
    # A wrong key: enforcement answers before auth, and a backend without it answers 401,
    # so the probe never reaches the assistant and the exact counts stay the ledger's.
    response = httpx.post(
        url,
        json={"items": [], "message": "plain http"},
        headers={"X-API-Key": "wrong-key-for-https-test"},
        timeout=5.0,
    )
    code = response.json().get("error", {}).get("code") if response.status_code == 403 else None
    if code != "HTTPS_REQUIRED":
        finding = Finding(
            Kind.HTTPS_NOT_ENFORCED,
            subject=f"POST {url}",
            expected="403 HTTPS_REQUIRED",
            seen=f"{response.status_code} {code or ''}".strip(),
            detail=f"({response.text[:160]})",
            hop=1,
        )
        raise CheckFailed(finding.render(), (finding,))


# Late: the backend handles this request (a 401), which makes a chat span of its own; the
# span metrics are counted against the ledger before it is sent.
@pytest.mark.late
def test_chat_behind_tls_proxy_passes_enforcement(pipeline: Pipeline) -> None:
    """With X-Forwarded-Proto: https the request passes enforcement and reaches auth.

    A wrong key keeps it from reaching the assistant, so it records no assistant metric.
    """
    url = pipeline.endpoints.backend_url + "/v1/assist/chat"
    response = httpx.post(
        url,
        json={"items": [], "message": "behind proxy"},
        headers={"X-API-Key": "wrong-key-for-policy-test", "X-Forwarded-Proto": "https"},
        timeout=5.0,
    )
    code = response.json().get("error", {}).get("code") if response.status_code >= 400 else None
    if response.status_code != 401 or code != "UNAUTHORIZED":
        finding = Finding(
            Kind.HTTP_STATUS,
            subject=f"POST {url} (X-Forwarded-Proto: https, a wrong key)",
            expected="401 UNAUTHORIZED",
            seen=f"{response.status_code} {code or ''}".strip(),
            detail=response.text[:160],
        )
        raise CheckFailed(finding.render(), (finding,))
