"""HTTPS enforcement (contract section 2), checked against a table written independently.

The matrix covers NODE_ENV x exempt/non-exempt path x how HTTPS is signalled x Host x
ALLOW_INSECURE_HTTP. The expectation is not derived from the implementation's rule: it
is the literal list of the combinations that must be refused.
"""

from __future__ import annotations

import itertools

import pytest
from backend_harness import ClientFactory
from scanium_backend.https_policy import host_without_port, is_local_host

NODE_ENVS = ("production", "development")
PATHS = {"exempt": "/metrics", "non-exempt": "/"}
PROTOS = {
    "forwarded-proto": {"X-Forwarded-Proto": "https"},
    "cf-visitor": {"cf-visitor": '{"scheme":"https"}'},
    "none": {},
}
HOSTS = {"local": "172.18.0.5:8080", "public": "api.scanium.example"}
ALLOW_INSECURE = (True, False)

# The only refused combinations: production, a path that is not exempt, no HTTPS signal,
# and no local-host allowance.
REFUSED = {
    ("production", "non-exempt", "none", "local", False),
    ("production", "non-exempt", "none", "public", False),
    ("production", "non-exempt", "none", "public", True),
}

MATRIX = list(itertools.product(NODE_ENVS, PATHS, PROTOS, HOSTS, ALLOW_INSECURE))
HTTPS_REQUIRED = {
    "error": {"code": "HTTPS_REQUIRED", "message": "HTTPS is required for this endpoint"}
}


def test_matrix_is_complete() -> None:
    assert len(MATRIX) == 48
    assert set(MATRIX) >= REFUSED


@pytest.mark.parametrize(
    ("node_env", "path_kind", "proto", "host_kind", "allow_insecure"),
    MATRIX,
    ids=["-".join(str(part) for part in case) for case in MATRIX],
)
def test_https_policy_matrix(
    make_client: ClientFactory,
    node_env: str,
    path_kind: str,
    proto: str,
    host_kind: str,
    allow_insecure: bool,
) -> None:
    client = make_client(
        {"NODE_ENV": node_env, "ALLOW_INSECURE_HTTP": "true" if allow_insecure else "false"}
    )
    response = client.get(PATHS[path_kind], headers={"Host": HOSTS[host_kind], **PROTOS[proto]})
    if (node_env, path_kind, proto, host_kind, allow_insecure) in REFUSED:
        assert response.status_code == 403
        assert response.json() == HTTPS_REQUIRED
    else:
        assert response.status_code == 200


def test_incident_metrics_not_exempt_is_refused(make_client: ClientFactory) -> None:
    # The pre-fix configuration: /metrics missing from the exempt list, Alloy scraping
    # over plain HTTP with the service name as Host.
    client = make_client(
        {
            "NODE_ENV": "production",
            "SECURITY_HTTPS_EXEMPT_PATHS": "/health,/healthz,/readyz",
            "ALLOW_INSECURE_HTTP": "false",
        }
    )
    response = client.get("/metrics", headers={"Host": "scanium-backend:8080"})
    assert response.status_code == 403
    assert response.json() == HTTPS_REQUIRED
    assert client.get("/health", headers={"Host": "scanium-backend:8080"}).status_code == 200


def test_refusals_are_counted_but_not_as_assistant_requests(make_client: ClientFactory) -> None:
    client = make_client({"NODE_ENV": "production"})
    assert client.post("/v1/assist/chat", json={}).status_code == 403
    metrics = client.get("/metrics").text
    assert (
        'scanium_http_requests_total{method="POST",route="/v1/assist/chat",status_code="403"} 1.0'
        in metrics
    )
    assert "scanium_assistant_requests_total{" not in metrics


def test_exemption_is_exact_and_ignores_the_query(make_client: ClientFactory) -> None:
    client = make_client({"NODE_ENV": "production"})
    assert client.get("/metrics?x=1").status_code == 200
    assert client.get("/metrics/").status_code == 403
    assert client.get("/METRICS").status_code == 403


def test_enforcement_off_lets_plain_http_through(make_client: ClientFactory) -> None:
    client = make_client({"NODE_ENV": "production", "SECURITY_ENFORCE_HTTPS": "off"})
    assert client.get("/", headers={"Host": "api.scanium.example"}).status_code == 200


def test_tls_socket_counts_as_https(make_client: ClientFactory) -> None:
    client = make_client({"NODE_ENV": "production"}, base_url="https://api.scanium.example")
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-Proto": "http"},
        {"X-Forwarded-Proto": "http, https"},
        {"cf-visitor": '{"scheme":"http"}'},
        {"cf-visitor": "not json"},
        {"cf-visitor": '["https"]'},
    ],
)
def test_false_https_signals_are_refused(
    make_client: ClientFactory, headers: dict[str, str]
) -> None:
    client = make_client({"NODE_ENV": "production"})
    assert client.get("/", headers=headers).status_code == 403


def test_forwarded_proto_first_hop_and_case(make_client: ClientFactory) -> None:
    client = make_client({"NODE_ENV": "production"})
    assert client.get("/", headers={"X-Forwarded-Proto": "HTTPS, http"}).status_code == 200


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("localhost", True),
        ("LOCALHOST:8080", True),
        ("127.0.0.1", True),
        ("127.8.9.10:80", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("172.31.255.255:8080", True),
        ("192.168.0.10:443", True),
        ("169.254.1.1", True),
        ("[::1]:8080", True),
        ("[fe80::1]", True),
        ("[fd00::5]:80", True),
        ("[::ffff:10.0.0.1]", True),
        ("172.32.0.1", False),
        ("172.15.255.255", False),
        ("8.8.8.8", False),
        ("192.0.2.1", False),
        ("scanium-backend:8080", False),
        ("localhost.example.com", False),
        ("", False),
        ("[2001:db8::1]:443", False),
    ],
)
def test_local_hosts(host: str, local: bool) -> None:
    assert is_local_host(host) is local


def test_host_without_port() -> None:
    assert host_without_port("[::1]:8080") == "::1"
    assert host_without_port("Example.com.:443") == "example.com"
    assert host_without_port("::1") == "::1"
