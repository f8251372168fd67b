"""Readiness: a service whose container exited during start-up fails at once (no wait for
the deadline), and a backend without /metrics is named as such."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from scanium_e2e.polling import HardError, PollAborted, PollTimeout, TransientError
from scanium_e2e.stack import StackEndpoints
from scanium_e2e.stack.readiness import (
    ServicesNotReady,
    _metrics_served,
    _watched,
    wait_until_ready,
)


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def serve(metrics_delay_s: float = 0.0, metrics_status: int = 404) -> Iterator[str]:
    """A real HTTP server answering /health 200, and /metrics `metrics_status` after
    `metrics_delay_s`."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/health":
                time.sleep(metrics_delay_s)
            self.send_response(200 if self.path == "/health" else metrics_status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def backend_without_metrics() -> Iterator[str]:
    yield from serve()


@pytest.fixture
def backend_with_slow_metrics() -> Iterator[str]:
    yield from serve(metrics_delay_s=3.5, metrics_status=200)


def test_a_failing_probe_of_an_exited_service_is_a_hard_error() -> None:
    def refused() -> str:
        raise TransientError("connection refused")

    with pytest.raises(HardError, match="alloy exited with code 1 during start-up"):
        _watched("alloy", refused, lambda: {"alloy": "exited with code 1"})()
    # A service still running is waited for, as before.
    with pytest.raises(TransientError):
        _watched("alloy", refused, lambda: {"store": "exited with code 2"})()


def test_an_exited_service_aborts_its_wait_while_the_others_time_out() -> None:
    endpoints = StackEndpoints(
        backend_url=closed_port(), alloy_url=closed_port(), mimir_url=closed_port()
    )
    with pytest.raises(ServicesNotReady) as raised:
        wait_until_ready(
            endpoints,
            tenant="",
            mimir_prefix="/prometheus",
            timeout_s=1.5,
            exited=lambda: {"alloy": "exited with code 1"},
        )
    failures = raised.value.failures
    assert isinstance(failures["alloy"], PollAborted)
    assert "exited with code 1" in str(failures["alloy"])
    assert isinstance(failures["backend"], PollTimeout)
    assert failures["alloy"].result.attempts < failures["backend"].result.attempts


def test_a_backend_that_answers_health_but_has_no_metrics_is_named(
    backend_without_metrics: str,
) -> None:
    with pytest.raises(HardError) as raised:
        _metrics_served(backend_without_metrics)()
    assert "has no /metrics" in str(raised.value) and "HTTP 404" in str(raised.value)


def test_a_slow_metrics_is_ready_for_the_checks_to_name(backend_with_slow_metrics: str) -> None:
    """A /metrics slower than the scrape timeout is served: the stack is ready and the
    checks time it (a probe with a 3 s read timeout never saw it ready); only a 404 is no
    backend."""
    assert _metrics_served(backend_with_slow_metrics)().startswith("HTTP 200")
