"""`scanium-e2e dashboards`: exit codes 0/1/2 and one-paragraph errors."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from dashboard_fixtures import END, REPO, START
from fake_mimir import FakeMimir, contract_series
from local_process import free_port
from store_stub import serve_store

from scanium_e2e.cli import build_parser, main
from scanium_e2e.cli.dashboards import run

FIXTURE = REPO / "fixtures" / "grafana" / "dashboards" / "openai-runtime.json"
WINDOW = ["--start", START.isoformat(), "--end", END.isoformat()]


def run_with(client: FakeMimir, *argv: str) -> int:
    args = build_parser().parse_args(["dashboards", *argv])
    return run(args, client=client)


def test_exit_0_when_every_panel_has_data(capsys: pytest.CaptureFixture[str]) -> None:
    code = run_with(FakeMimir(contract_series()), str(FIXTURE), "--mimir-url", "http://x", *WINDOW)
    out = capsys.readouterr().out
    assert code == 0
    assert "Scanium - OpenAI Runtime (uid scanium-openai-runtime" in out
    assert "result: 13 panels: 12 data, 1 skipped -> OK" in out


def test_exit_1_when_a_panel_is_empty(capsys: pytest.CaptureFixture[str]) -> None:
    stored = [s for s in contract_series() if "errors" not in s.labels["__name__"]]
    code = run_with(FakeMimir(stored), str(FIXTURE), "--mimir-url", "http://x", *WINDOW)
    out = capsys.readouterr().out
    assert code == 1
    assert "why: `scanium_assistant_errors_total`: metric never seen" in out


def test_allow_empty_turns_it_into_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    stored = [s for s in contract_series() if "errors" not in s.labels["__name__"]]
    code = run_with(
        FakeMimir(stored),
        str(FIXTURE),
        "--mimir-url",
        "http://x",
        "--since",
        "15m",
        "--scrape-interval",
        "1s",
        "--allow-empty",
        "Error Rate=no error traffic",
        "--allow-empty",
        "9=no error traffic",
        "--allow-empty",
        "Nope=typo",
    )
    captured = capsys.readouterr()
    assert code == 0
    assert "allowed-empty  no error traffic" in captured.out
    assert "warning: --allow-empty 'Nope' matches no panel" in captured.err


def test_var_pins_a_variable(capsys: pytest.CaptureFixture[str]) -> None:
    client = FakeMimir(contract_series())
    argv = ["--var", "provider=openai", "--var", "modle=x"]
    run_with(client, str(FIXTURE), "--mimir-url", "http://x", *argv)
    # Every query of a panel filtered by provider (the OTLP road's series carry no provider).
    filtered = [q for q in client.range_queries if "scanium_assistant" in q]
    assert filtered and all('provider=~"openai"' in q for q in filtered)
    assert capsys.readouterr().err == "warning: --var modle: no dashboard has a variable $modle\n"


def test_format_json_prints_every_panel_with_its_full_queries(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stored = [s for s in contract_series() if "errors" not in s.labels["__name__"]]
    code = run_with(FakeMimir(stored), str(FIXTURE), "--mimir-url", "http://x", "--format", "json")
    out = capsys.readouterr().out
    assert code == 1  # the same exit codes as the table
    document = json.loads(out)  # stdout is the JSON document alone
    assert document["panels"] == 13 and document["failing"] >= 1
    (dashboard,) = document["dashboards"]
    assert dashboard["uid"] == "scanium-openai-runtime" and dashboard["ok"] is False
    for panel in dashboard["panels"]:
        assert {"title", "id", "status", "detail", "reasons", "queries"} <= panel.keys()
    errors = next(p for p in dashboard["panels"] if p["title"] == "Error Rate")
    assert errors["status"] == "empty"
    assert any(
        "`scanium_assistant_errors_total`: metric never seen" in r for r in errors["reasons"]
    )
    assert errors["queries"] and all("$" not in q for q in errors["queries"])
    assert any("scanium_assistant_errors_total" in q for q in errors["queries"])


def test_format_json_keeps_what_the_table_cuts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models = [f"model-number-{i:03d}" for i in range(300)]
    dashboard = {
        "title": "Long",
        "templating": {
            "list": [
                {
                    "name": "model",
                    "type": "custom",
                    "query": ",".join(models),
                    "includeAll": True,
                    "multi": True,
                    "current": {"value": ["$__all"]},
                }
            ]
        },
        "panels": [
            {
                "id": 1,
                "title": "By model",
                "type": "timeseries",
                "targets": [{"refId": "A", "expr": 'sum(rate(nope{model=~"$model"}[5m]))'}],
            }
        ],
    }
    path = tmp_path / "long.json"
    path.write_text(json.dumps(dashboard))
    argv = [str(path), "--mimir-url", "http://x", *WINDOW]
    assert run_with(FakeMimir(contract_series()), *argv) == 1
    table = capsys.readouterr().out
    assert "model-number-299" not in table and "cut to 160 characters" in table
    assert run_with(FakeMimir(contract_series()), *argv, "--format", "json") == 1
    (query,) = json.loads(capsys.readouterr().out)["dashboards"][0]["panels"][0]["queries"]
    assert (
        query.startswith('sum(rate(nope{model=~"(model-number-000|') and "model-number-299" in query
    )


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    started = time.monotonic()
    code = main(["dashboards", *argv])
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 2, err
    assert elapsed < 5, f"took {elapsed:.1f}s"
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    err = usage_error(["nope.json", "--mimir-url", "http://127.0.0.1:1"], capsys)
    assert err == "scanium-e2e dashboards: the dashboard file nope.json does not exist.\n"


def test_malformed_json_exits_2_naming_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"panels": [{"id": 1, "targets": {"expr": "up"}}]}')
    err = usage_error([str(path), "--mimir-url", "http://127.0.0.1:1"], capsys)
    assert f"{path}, line 1, column 34: `panels[0].targets` must be a list" in err


def test_unreachable_mimir_exits_2_quickly(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    err = usage_error([str(FIXTURE), "--mimir-url", f"http://127.0.0.1:{port}"], capsys)
    assert f"Mimir at http://127.0.0.1:{port} is unreachable (connection refused)" in err
    assert "check --mimir-url" in err


def test_a_store_refusing_the_preflight_exits_2_with_its_status_and_words(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with serve_store() as store:
        store.answers["/prometheus/api/v1/labels"] = [(401, "no org id\n")]
        err = usage_error([str(FIXTURE), "--mimir-url", store.url, *WINDOW], capsys)
    assert "/prometheus does not answer like a Prometheus API (HTTP 401: no org id)" in err
    assert "--tenant" in err


def test_not_a_url_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    err = usage_error([str(FIXTURE), "--mimir-url", "localhost:9009"], capsys)
    assert "is not an http(s) URL" in err


def test_start_after_end_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [str(FIXTURE), "--mimir-url", "http://127.0.0.1:1"]
    err = usage_error([*argv, "--start", END.isoformat(), "--end", START.isoformat()], capsys)
    assert "the window is empty" in err


@pytest.mark.parametrize(
    "bad",
    [["--allow-empty", "no-equals-sign"], ["--since", "soon"], ["--var", "x"], ["--format", "xml"]],
)
def test_bad_flags_exit_2(bad: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["dashboards", str(FIXTURE), "--mimir-url", "http://x", *bad])
    assert caught.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def logs_and_traces_dashboard(folder: Path, title: str) -> Path:
    """A dashboard made only of Loki and Tempo panels: nothing in it can be replayed."""
    path = folder / f"{title}.json"
    panels = [
        {"id": 1, "title": "Logs", "type": "logs",
         "datasource": {"type": "loki", "uid": "loki"},
         "targets": [{"refId": "A", "expr": '{app="scanium"}'}]},
        {"id": 2, "title": "Traces", "type": "traces",
         "datasource": {"type": "tempo", "uid": "tempo"},
         "targets": [{"refId": "A", "query": "{}"}]},
    ]  # fmt: skip
    path.write_text(json.dumps({"title": title, "uid": title, "panels": panels}))
    return path


def test_a_dashboard_with_nothing_checked_says_so_never_ok(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    only_logs = [str(logs_and_traces_dashboard(tmp_path, name)) for name in ("logs", "traces")]
    code = run_with(FakeMimir(contract_series()), *only_logs, "--mimir-url", "http://x", *WINDOW)
    out = capsys.readouterr().out
    assert code == 5
    assert "result: 2 panels: 2 skipped -> nothing checked" in out and "-> OK" not in out
    assert "nothing checked in 2 ('logs', 'traces'): every panel was skipped" in out
    # Beside a dashboard that was checked, the command passes; the empty one still says so.
    code = run_with(
        FakeMimir(contract_series()), str(FIXTURE), only_logs[0], "--mimir-url", "http://x",
        *WINDOW, "--format", "json",
    )  # fmt: skip
    document = json.loads(capsys.readouterr().out)
    assert code == 0 and document["nothing_checked"] == ["logs"]
    assert [d["checked"] for d in document["dashboards"]] == [True, False]
