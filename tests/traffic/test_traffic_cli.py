"""`scanium-e2e traffic`: exit codes, one-paragraph errors, and no key in any output."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from traffic_harness import API_KEY, Served, closed_port_url

from scanium_e2e.cli import main
from scanium_e2e.settings import REPO_ROOT


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


def other_contract(tmp_path: Path) -> Path:
    """The Scanium contract with every metric renamed, faults recorded as successes and no
    errors counter: a backend the CLI must describe in its own names and accounting."""
    data = json.loads((REPO_ROOT / "fixtures" / "contract.json").read_text())
    for role, name in {
        "requests": "acme_llm_calls_total",
        "latency": "acme_llm_call_seconds",
        "tokens": "acme_llm_tokens",
        "errors": "acme_llm_failures_total",
    }.items():
        data["metrics"][role]["name"] = name
    del data["metrics"]["latency"]["unit"]  # read from the name: seconds
    data["failures"] = {"recorded_as": "success", "error_counter": False}
    path = tmp_path / "acme.json"
    path.write_text(json.dumps(data))
    return path


def test_the_expected_increases_follow_the_contract_in_use(
    backend: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(API_KEY)
    ledger_file = tmp_path / "ledger.json"
    code = main(
        ["traffic", "--base-url", backend.url, *SMALL, "--api-key-file", str(key_file),
         "--contract", str(other_contract(tmp_path)), "--json-ledger", str(ledger_file)]
    )  # fmt: skip
    out, err = capsys.readouterr()

    assert code == 0, out + err
    expected = out.split("expected increase in the backend's metrics:\n")[1].split("\n\n")[0]
    # 3 successes and 1 fault, the fault counted as a success; no errors counter to expect.
    assert expected.splitlines() == [
        '    4  acme_llm_calls_total{provider="openai",status="success"}',
        '    4  acme_llm_call_seconds_count{provider="openai",status="success"}',
        '  360  acme_llm_tokens_sum{provider="openai",token_type="input"}',
        '    3  acme_llm_tokens_count{provider="openai",token_type="input"}',
        '  135  acme_llm_tokens_sum{provider="openai",token_type="output"}',
        '    3  acme_llm_tokens_count{provider="openai",token_type="output"}',
        '  495  acme_llm_tokens_sum{provider="openai",token_type="total"}',
        '    3  acme_llm_tokens_count{provider="openai",token_type="total"}',
        # The HTTP layer: each answer by the status it came back with; the three unknown
        # paths under the one unmatched route.
        *(
            f"    {n}  scanium_http_{family}"
            f'{{method="{method}",route="{route}",status_code="{status}"}}'
            for method, route, status, n in (
                ("GET", "unmatched", "404", 3),
                ("POST", "/v1/assist/chat", "200", 4),
                ("POST", "/v1/assist/chat", "400", 2),
                ("POST", "/v1/assist/chat", "401", 1),
            )
            for family in ("requests_total", "request_duration_ms_count")
        ),
    ]
    assert "scanium_assistant" not in out
    written = json.loads(ledger_file.read_text())["expected"]
    assert written["contract"] == str(tmp_path / "acme.json")
    assert written["increases"][0] == {
        "metric": "acme_llm_calls_total",
        "labels": {"provider": "openai", "status": "success"},
        "increase": 4.0,
    }


def test_the_default_contract_names_the_scanium_metrics_and_error_labels(
    backend: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCANIUM_E2E_API_KEY", API_KEY)
    code = main(["traffic", "--base-url", backend.url, *SMALL, "--faults", "503"])
    out, _ = capsys.readouterr()
    assert code == 0
    # The fault's labels come from the contract's `faults` map.
    assert (
        '1  scanium_assistant_errors_total{provider="openai",error_type="provider_error",'
        'reason_code="PROVIDER_UNAVAILABLE"}'
    ) in out
    assert '1  scanium_assistant_request_latency_ms_count{provider="openai",status="error"}' in out


def test_a_bad_contract_exits_2_before_any_request(
    backend: Served,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SCANIUM_E2E_API_KEY", API_KEY)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"metrics": {}, "extra": 1}))
    code = main(["traffic", "--base-url", backend.url, *SMALL, "--contract", str(bad)])
    _, err = capsys.readouterr()

    assert code == 2
    assert err.startswith(f"scanium-e2e traffic: {bad}: `metrics.requests` is missing")
    assert "unknown field `extra`" in err and err.count("\n") == 1 and "Traceback" not in err
    assert backend.recorder.received == []
