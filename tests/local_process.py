"""Helpers for unit tests that run a service as a real local process on loopback."""

from __future__ import annotations

import socket
import subprocess

import httpx

from scanium_e2e.polling import HardError, TransientError, poll


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_healthy(process: subprocess.Popen[str], base_url: str, name: str) -> None:
    """Poll `base_url`/health until it answers 200; fail at once if `process` exits."""

    def probe() -> int:
        if process.poll() is not None:
            raise HardError(f"{name} exited during start-up (status {process.returncode})")
        try:
            return httpx.get(f"{base_url}/health", timeout=1).status_code
        except httpx.TransportError as exc:
            raise TransientError(str(exc)) from exc

    poll(probe, lambda status: status == 200, what=f"{name} healthy", timeout_s=20, interval_s=0.05)
