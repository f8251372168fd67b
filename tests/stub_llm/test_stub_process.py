"""``python -m stub_llm`` as a real process: bad PORT, JSON logs without the key, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from local_process import free_port, wait_until_healthy

STUB_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "stub-llm"
KEY_CANARY = "sk-stubprocess-canary-42f0"


def _env(extra: dict[str, str]) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(STUB_DIR),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def test_bad_port_exits_with_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stub_llm"],
        env=_env({"PORT": "http"}),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "PORT must be an integer" in result.stderr
    assert "Traceback" not in result.stderr


def test_process_logs_json_without_the_key() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "stub_llm"],
        env=_env({"HOST": "127.0.0.1", "PORT": str(port)}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, base, "stub")
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        for headers in (
            {"Authorization": f"Bearer {KEY_CANARY}"},
            {"x-api-key": KEY_CANARY},
        ):
            path = "/v1/chat/completions" if "Authorization" in headers else "/v1/messages"
            payload = body if path.endswith("completions") else {**body, "max_tokens": 5}
            assert httpx.post(f"{base}{path}", headers=headers, json=payload).status_code == 200
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert KEY_CANARY not in stdout + stderr
    records = [json.loads(line) for line in stdout.splitlines()]
    assert [r["path"] for r in records if r["msg"] == "request"] == [
        "/v1/chat/completions",
        "/v1/messages",
    ]
