"""parse_scrape_targets: Alloy's component debug info becomes ScrapeTargets, once.

The HTTP status is read out of `last_error` here, at the boundary, and nowhere else.
"""

from __future__ import annotations

from typing import Any

import pytest

from scanium_e2e.clients.alloy import http_status_of, parse_scrape_targets


def attr(name: str, value: Any) -> dict[str, Any]:
    return {"name": name, "type": "attr", "value": value}


def string(value: str) -> dict[str, Any]:
    return {"type": "string", "value": value}


def component(health: str, last_error: str) -> dict[str, Any]:
    """A `prometheus.scrape` component as Alloy's /api/v0/web/components/<id> encodes it."""
    labels = {
        "type": "object",
        "value": [
            {"key": "job", "value": string("scanium-backend")},
            {"key": "instance", "value": string("scanium-backend:8080")},
        ],
    }
    target = {
        "name": "target",
        "type": "block",
        "body": [
            attr("job", string("scanium-backend")),
            attr("url", string("http://scanium-backend:8080/metrics")),
            attr("health", string(health)),
            attr("labels", labels),
            attr("last_error", string(last_error)),
            attr("last_scrape", string("2026-11-26T10:00:00Z")),
            attr("scrape_duration", string("2.1ms")),
        ],
    }
    return {"localID": "prometheus.scrape.backend", "debugInfo": [target]}


def test_an_http_error_status_becomes_a_field() -> None:
    (target,) = parse_scrape_targets(component("down", "server returned HTTP status 403 Forbidden"))
    assert target.url == "http://scanium-backend:8080/metrics"
    assert not target.up
    assert target.labels == {"job": "scanium-backend", "instance": "scanium-backend:8080"}
    assert (target.http_status, target.http_reason) == (403, "Forbidden")
    assert target.last_error == "server returned HTTP status 403 Forbidden"


@pytest.mark.parametrize(
    ("last_error", "status", "reason"),
    [
        ("server returned HTTP status 403 Forbidden", 403, "Forbidden"),
        ("server returned HTTP status 404 Not Found", 404, "Not Found"),
        ("server returned HTTP status 500 Internal Server Error", 500, "Internal Server Error"),
        ("server returned HTTP status 503", 503, ""),
    ],
)
def test_status_code_and_reason_of_prometheus_scrape_errors(
    last_error: str, status: int, reason: str
) -> None:
    assert http_status_of(last_error) == (status, reason)


@pytest.mark.parametrize(
    "last_error",
    [
        "",
        'Get "http://scanium-backend:8080/metrics": context deadline exceeded',
        'Get "http://scanium-backend:8080/metrics": dial tcp 172.18.0.4:8080: connect: '
        "connection refused",
        'Get "http://scanium-backend:8080/metrics": dial tcp: lookup scanium-backend on '
        "127.0.0.11:53: no such host",
        'expected a valid start token, got "<" ("INVALID") while parsing: "<html>"',
        "body size limit exceeded",
        'received unsupported Content-Type "text/html" and no fallback_scrape_protocol '
        "specified for target",
    ],
)
def test_errors_without_an_http_status(last_error: str) -> None:
    assert http_status_of(last_error) == (None, "")
    (target,) = parse_scrape_targets(component("down" if last_error else "up", last_error))
    assert target.http_status is None and target.http_reason == ""
