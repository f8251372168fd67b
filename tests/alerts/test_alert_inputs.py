"""Reading alert rule files, data sources and Alertmanager configs; bad input is one
paragraph naming the place, and `scanium-e2e alerts` exits 4 on it, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanium_e2e.alerts.datasources import load_datasources
from scanium_e2e.alerts.loading import RuleFileError, load_rules
from scanium_e2e.alerts.model import RuleFormat, RuleKind
from scanium_e2e.alerts.routing import SINK_URL, load_routing
from scanium_e2e.alerts.scenarios import load_inputs
from scanium_e2e.cli import main
from scanium_e2e.settings import REPO_ROOT

FIXTURES = REPO_ROOT / "fixtures" / "alerts"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_our_fixture_rules_hold_both_formats_and_every_kind() -> None:
    rules = load_rules([FIXTURES / "rules"])
    formats = {(r.format, r.kind) for r in rules.rules}
    assert formats == {
        (RuleFormat.PROMETHEUS, RuleKind.ALERTING),
        (RuleFormat.PROMETHEUS, RuleKind.RECORDING),
        (RuleFormat.GRAFANA, RuleKind.ALERTING),
    }
    covering = [r for r in rules.rules if r.query.startswith('up{job="scanium-backend"}')]
    assert {r.format for r in covering} == {RuleFormat.PROMETHEUS, RuleFormat.GRAFANA}


def test_malformed_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yml", "groups:\n  - name: g\n    rules: [\n")
    with pytest.raises(RuleFileError, match=rf"{path}:4:1: malformed YAML"):
        load_rules([path])


def test_invalid_promql_is_named_with_group_and_rule(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "r.yml",
        "groups:\n  - name: pipeline\n    rules:\n"
        "      - alert: Broken\n        expr: sum(up[5m]\n",
    )
    with pytest.raises(RuleFileError, match="group `pipeline`, rule `Broken`: invalid PromQL"):
        load_rules([path])


def test_invalid_promql_in_a_grafana_rule_is_named_once_its_data_source_is_known(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "g.yaml",
        "apiVersion: 1\ngroups:\n  - name: G\n    rules:\n      - title: T\n        condition: A\n"
        "        data:\n          - refId: A\n            datasourceUid: scanium-mimir\n"
        "            model: {expr: 'rate(x[$__rate_interval]'}\n",
    )
    rules = load_rules([path])  # PromQL or LogQL? only the data source says
    with pytest.raises(RuleFileError, match="group `G`, rule `T`, refId A: invalid PromQL"):
        load_inputs([path])
    assert len(rules.grafana) == 1


def test_a_file_of_neither_format_says_what_was_expected(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yml", "scrape_configs: []\n")
    with pytest.raises(RuleFileError) as caught:
        load_rules([path])
    assert str(caught.value) == (
        f"{path} is neither a Prometheus rule file (`groups:` of rules with `alert:` or "
        "`record:`) nor Grafana alert rule provisioning (`apiVersion:` and `groups:` of rules "
        "with `condition:` and `data:`)."
    )


def test_grafana_provisioning_without_rules_is_skipped_and_said(tmp_path: Path) -> None:
    write(tmp_path, "contactpoints.yaml", "apiVersion: 1\ncontactPoints: []\n")
    write(
        tmp_path,
        "rules.yml",
        "groups:\n  - name: g\n    rules:\n      - record: a:b\n        expr: sum(up)\n",
    )
    rules = load_rules([tmp_path])
    assert [r.name for r in rules.rules] == ["a:b"]
    assert rules.skipped and "contactPoints" in rules.skipped[0]


def test_data_sources_resolve_by_uid() -> None:
    sources = load_datasources()
    mimir = sources.get("scanium-mimir")
    assert mimir is not None and mimir.is_prometheus
    assert sources.get("LOKI") is None and "scanium-mimir" in sources.describe()


def test_alertmanager_receivers_all_point_at_the_sink_and_null_ones_are_known() -> None:
    routing = load_routing(FIXTURES / "alertmanager.yml")
    assert routing.null_receivers == {"blackhole"}
    urls = [
        config["url"]
        for receiver in routing.document["receivers"]
        for config in receiver["webhook_configs"]
    ]
    assert urls and all(url.startswith(SINK_URL) for url in urls)
    assert all(
        "pagerduty_configs" not in r and "slack_configs" not in r
        for r in routing.document["receivers"]
    )
    assert routing.document["route"]["group_wait"] == "0s"
    assert all(child["group_wait"] == "0s" for child in routing.document["route"]["routes"])


def test_an_alertmanager_route_to_an_undefined_receiver_is_bad_input(tmp_path: Path) -> None:
    path = write(tmp_path, "am.yml", "route:\n  receiver: nobody\nreceivers:\n  - name: other\n")
    with pytest.raises(RuleFileError, match="receiver `nobody`, which is not defined"):
        load_routing(path)


def test_cli_exits_4_on_malformed_yaml_with_the_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "bad.yml", "groups: [\n")
    code = main(["alerts", str(path), "--mimir-url", "http://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 4, err
    assert f"{path}:2:1: malformed YAML" in err and "Traceback" not in err


def test_cli_exits_4_when_the_store_is_unreachable(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["alerts", str(FIXTURES / "rules"), "--mimir-url", "http://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 4 and "unreachable" in err, err


def test_the_webhook_sink_starts_only_in_stacks_that_prove_routing() -> None:
    import yaml

    compose = yaml.safe_load((REPO_ROOT / "docker-compose.test.yml").read_text(encoding="utf-8"))
    sink = compose["services"]["alert-sink"]
    assert sink["profiles"] == ["alerts"]  # the session's and the variants' stacks lack it
    assert sink["image"].startswith("${SCANIUM_E2E_STUB_IMAGE")  # an image built here


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--mimir-url", "http://127.0.0.1:9"], "give the rule files or folders"),
        (["--alert-rules", str(FIXTURES / "rules")], "give --mimir-url"),
        (
            [str(FIXTURES / "rules"), "--mimir-url", "http://127.0.0.1:9", "--alertmanager-config",
             str(FIXTURES / "alertmanager.yml")],
            "never posts an alert to your store's Alertmanager",
        ),
        (["--coverage", "--alert-rules", str(FIXTURES / "rules"), "--only", "nope"],
         "unknown variant 'nope'"),
    ],
)  # fmt: skip
def test_the_cli_takes_pytest_s_option_names_and_says_what_is_missing(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["alerts", *argv])
    err = capsys.readouterr().err
    assert code == 4 and said in err and err.count("\n") == 1, err
