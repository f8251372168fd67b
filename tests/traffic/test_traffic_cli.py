"""`scanium-e2e traffic`: exit codes, one-paragraph errors, and no key in any output."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from traffic_harness import API_KEY, Served, closed_port_url

from scanium_e2e.cli import main


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads these; start every test without them."""
    for name in (
        "SCANIUM_E2E_API_KEY",
        "SCANIUM_E2E_API_KEY_FILE",
        "SCANIUM_E2E_BEARER_TOKEN",
        "SCANIUM_E2E_BEARER_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)


SMALL = ["--requests", "3", "--errors", "1", "--invalid", "2", "--unauthorized", "1"]


def test_a_clean_run_exits_0_and_never_shows_the_key(
    backend: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(API_KEY + "\n")
    ledger_file = tmp_path / "ledger.json"

    code = main(
        ["traffic", "--base-url", backend.url, *SMALL, "--api-key-file", str(key_file),
         "--json-ledger", str(ledger_file), "--canaries"]
    )  # fmt: skip
    out, err = capsys.readouterr()

    assert code == 0, out + err
    assert API_KEY not in out + err
    assert "traffic: " in err and "(100%)" in err  # progress on stderr
    assert (
        "surprises: none" in out
        and '4  scanium_assistant_requests_total{provider="openai",status="success"}' in out
    )  # 3 + canary success
    ledger = json.loads(ledger_file.read_text())
    assert API_KEY not in ledger_file.read_text()
    for value in ledger["canaries"].values():
        assert value not in out + err


def test_the_key_from_the_environment_is_used_and_not_echoed(
    backend: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCANIUM_E2E_API_KEY", API_KEY)
    code = main(["traffic", "--base-url", backend.url, *SMALL])
    out, err = capsys.readouterr()
    assert code == 0 and API_KEY not in out + err


def test_a_closed_port_exits_2_fast_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCANIUM_E2E_API_KEY", API_KEY)
    url = closed_port_url()
    started = time.monotonic()
    code = main(["traffic", "--base-url", url, *SMALL])
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()

    assert code == 2 and elapsed < 3.0
    assert err.startswith(f"scanium-e2e traffic: the backend at {url} is unreachable: connection")
    assert err.count("\n") == 1 and "Traceback" not in err and API_KEY not in out + err


def test_a_wrong_key_exits_2_at_once_without_echoing_it(
    backend: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "not-the-right-key-3e8f0a2b"
    monkeypatch.setenv("SCANIUM_E2E_API_KEY", wrong)
    code = main(["traffic", "--base-url", backend.url, *SMALL])
    out, err = capsys.readouterr()

    assert code == 2
    assert "the backend rejected the API key (HTTP 401 UNAUTHORIZED)" in err
    assert wrong not in out + err and "Traceback" not in err
    # Stopped at the probe: exactly one chat request reached the backend.
    assert len(backend.recorder.to("/v1/assist/chat")) == 1


def test_a_missing_key_exits_2_with_what_to_set(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["traffic", "--base-url", "http://127.0.0.1:9"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "no API key" in err and "SCANIUM_E2E_API_KEY" in err and err.count("\n") == 1


def test_an_unreadable_key_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope"
    code = main(["traffic", "--base-url", "http://127.0.0.1:9", "--api-key-file", str(missing)])
    _, err = capsys.readouterr()
    assert code == 2 and "cannot read the API key file" in err


def test_surprises_exit_1(
    make_backend: Callable[..., Served],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    backend = make_backend(SCANIUM_ASSISTANT_PROVIDER="mock")
    monkeypatch.setenv("SCANIUM_E2E_API_KEY", API_KEY)
    code = main(["traffic", "--base-url", backend.url, "--requests", "2", "--errors", "1"])
    out, _ = capsys.readouterr()
    assert code == 1
    assert "surprises: 2" in out  # provider mock, and the fault marker ignored by mock


def test_bad_arguments_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["traffic", "--base-url", "http://x", "--tokens", "120"])
    assert caught.value.code == 2
    assert "IN,OUT" in capsys.readouterr().err
