"""``python -m scanium_backend`` as a real process: refusals at start-up, clean logs, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from backend_harness import read_journal
from local_process import free_port, wait_until_healthy

BACKEND_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "backend"
KEYS = {"SCANIUM_API_KEYS": "k1"}


def _process_env(extra: dict[str, str]) -> dict[str, str]:
    # A clean environment: nothing from the developer's shell (OPENAI_API_KEY...) leaks in.
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(BACKEND_DIR),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def _run_until_exit(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Start the backend with `env` and wait for it to exit (it should refuse to start)."""
    return subprocess.run(
        [sys.executable, "-m", "scanium_backend"],
        env=_process_env(env),
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({}, "no API keys configured"),
        ({**KEYS, "SCANIUM_ASSISTANT_PROVIDER": "openai"}, "needs OPENAI_API_KEY"),
        ({**KEYS, "SCANIUM_ASSISTANT_PROVIDER": "claude"}, "needs CLAUDE_API_KEY"),
        ({**KEYS, "SCANIUM_ASSISTANT_PROVIDER": "bard"}, "SCANIUM_ASSISTANT_PROVIDER must be"),
        ({**KEYS, "ALLOW_INSECURE_HTTP": "maybe"}, "ALLOW_INSECURE_HTTP must be"),
        ({**KEYS, "SECURITY_ENFORCE_HTTPS": "enabled"}, "SECURITY_ENFORCE_HTTPS must be"),
        ({**KEYS, "PORT": "eighty"}, "PORT must be an integer"),
        ({**KEYS, "PORT": "0"}, "PORT must be between"),
    ],
)
def test_misconfiguration_exits_with_one_line(env: dict[str, str], reason: str) -> None:
    result = _run_until_exit(env)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("scanium-backend: configuration error: ")
    assert reason in lines[0]
    assert "Traceback" not in result.stderr


def test_secret_values_are_not_echoed_in_the_refusal() -> None:
    env = {"SCANIUM_ASSISTANT_PROVIDER": "openai", "SCANIUM_API_KEYS": "k1-secret-value"}
    result = _run_until_exit(env)
    assert result.returncode == 2
    assert "k1-secret-value" not in result.stderr


CANARIES = {
    "api_key": "apikey-canary-1a2b",
    "wrong_key": "wrongkey-canary-3c4d",
    "session": "session-canary-5e6f",
    "llm_key": "sk-llmkey-canary-7a8b",
    "message": "message-canary-9c0d",
    "email": "canary.person@example.org",
    "query": "query-canary-e1f2",
    "header": "header-canary-a3b4",
    "path": "path-canary-c5d6",
}


def test_served_process_logs_json_without_secrets_and_stops_on_sigterm(stub_url: str) -> None:
    port = free_port()
    env = _process_env(
        {
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "SCANIUM_API_KEYS": CANARIES["api_key"],
            "SCANIUM_SESSION_TOKENS": CANARIES["session"],
            "SCANIUM_ASSISTANT_PROVIDER": "openai",
            "OPENAI_API_KEY": CANARIES["llm_key"],
            "OPENAI_BASE_URL": f"{stub_url}/v1",
            "SCANIUM_ASSISTANT_MAX_RETRIES": "0",
        }
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "scanium_backend"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, base, "backend")

        headers = {
            "X-API-Key": CANARIES["api_key"],
            "Authorization": f"Bearer {CANARIES['session']}",
            "X-Custom": CANARIES["header"],
            "User-Agent": CANARIES["header"],
        }
        body = {
            "items": [{"itemId": "i1", "title": CANARIES["email"]}],
            "message": f"{CANARIES['message']} mail {CANARIES['email']}",
        }
        url = f"{base}/v1/assist/chat?q={CANARIES['query']}"
        assert httpx.post(url, headers=headers, json=body).status_code == 200
        failing = {**body, "message": f"{CANARIES['message']} [[stub:fault=500]]"}
        assert "assistantError" in httpx.post(url, headers=headers, json=failing).json()
        wrong = {**headers, "X-API-Key": CANARIES["wrong_key"]}
        assert httpx.post(url, headers=wrong, json=body).status_code == 401
        assert httpx.get(f"{base}/{CANARIES['path']}?q={CANARIES['query']}").status_code == 404
        assert httpx.get(f"{base}/metrics").status_code == 200
        # The LLM saw the user's text: the canaries travelled, only the logs must lack them.
        assert CANARIES["message"] in read_journal(stub_url)[0]["text"]

        stop_started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
        stop_seconds = time.monotonic() - stop_started
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    # uvicorn re-raises the signal after its graceful shutdown, so the status says SIGTERM.
    assert process.returncode in (0, -signal.SIGTERM)
    assert stop_seconds < 5
    logs = stdout + stderr
    for name, canary in CANARIES.items():
        assert canary not in logs, f"{name} canary leaked into the logs"
    records = [json.loads(line) for line in stdout.splitlines()]
    assert stderr.strip() == ""
    starting = [r for r in records if r["msg"] == "starting"]
    assert starting and starting[0]["provider"] == "openai"
    requests = [r for r in records if r["msg"] == "request"]
    assert {r["route"] for r in requests} >= {"/health", "/v1/assist/chat", "unmatched", "/metrics"}
    for record in requests:
        assert set(record) == {"ts", "level", "logger", "msg"} | {
            "method", "route", "status", "duration_ms", "correlationId",
        }  # fmt: skip
    failure_logs = [r for r in records if r["msg"] == "assistant provider failed"]
    assert failure_logs[0]["reason_code"] == "PROVIDER_SERVER_ERROR"
