"""Which components of a user's Alloy config the suite verifies, and the host names the
stack must answer. The component JSON is Alloy's own answer, recorded from Alloy v1.0.0
running fixtures/alloy/production-style.alloy (tests/library/data/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scanium_e2e.errors import ConfigurationError
from scanium_e2e.stack.alloy_config import (
    AlloyComponent,
    discover,
    network_aliases,
    write_alias_override,
)
from scanium_e2e.stack.alloy_preflight import alloy_rejection

RECORDED = json.loads(
    (Path(__file__).parent / "data" / "alloy-components-production-style.json").read_text()
)


def production_style() -> list[AlloyComponent]:
    """The recorded components, as `live_components` builds them."""
    return [
        AlloyComponent.from_api(item, RECORDED["details"].get(item["localID"], {}))
        for item in RECORDED["components"]
    ]


def scrape(
    label: str, address: str, forward: str = "prometheus.remote_write.store", **args: Any
) -> AlloyComponent:
    """A scrape component as `from_api` builds it (arguments already plain values)."""
    return AlloyComponent(
        id=f"prometheus.scrape.{label}",
        references_to=(forward,),
        arguments={"targets": [{"__address__": address}], **args},
    )


def writer(label: str = "store", url: str = "http://mimir:9009/api/v1/push") -> AlloyComponent:
    return AlloyComponent(
        id=f"prometheus.remote_write.{label}", arguments={"endpoint": [{"url": url}]}
    )


def test_the_production_style_config_yields_its_backend_scrape_and_remote_write() -> None:
    found = discover(production_style())
    assert found.scrape == "prometheus.scrape.scanium_api"
    assert found.remote_write == "prometheus.remote_write.mimir_prod"
    assert found.job == "scanium-api"
    assert found.target == "scanium-api.prod.svc.cluster.local:8080"
    assert found.metrics_path == "/metrics"
    assert found.scrape_interval_s == 5.0
    assert "port 8080" in found.chosen_because


def test_everything_off_the_verified_path_is_not_part_of_this_stack() -> None:
    found = discover(production_style())
    # The relabel stage between scrape and remote_write is on the path, so verified.
    assert "prometheus.relabel.drop_runtime_noise" not in found.not_in_stack
    assert set(found.not_in_stack) == {
        "local.file_match.scanium_logs",
        "loki.source.file.scanium_logs",
        "loki.write.grafana_loki",
        "otelcol.connector.spanmetrics.red",
        "otelcol.exporter.otlp.tempo",
        "otelcol.exporter.prometheus.otlp_metrics",
        "otelcol.exporter.prometheus.span_metrics",
        "otelcol.processor.batch.default",
        "otelcol.receiver.otlp.default",
        "prometheus.scrape.alloy_self",
        "prometheus.scrape.node_exporter",
    }
    assert "not part of this stack: local.file_match" in found.describe()


def test_with_an_otlp_road_its_receiver_and_route_are_verified_too() -> None:
    found = discover(production_style(), otlp_receiver="otelcol.receiver.otlp.backend_http")
    assert found.otlp is not None
    route = found.otlp
    assert (route.receiver, route.endpoint, route.wired) == (
        "otelcol.receiver.otlp.default",
        "0.0.0.0:4318",
        ("metrics", "traces"),
    )
    assert (route.exporter, route.remote_write) == (
        "otelcol.exporter.prometheus.otlp_metrics",
        "prometheus.remote_write.mimir_prod",
    )
    assert route.span_exporter == "otelcol.exporter.prometheus.span_metrics"
    assert "discovered: the only OTLP receiver" in found.otlp_because
    # Tempo's exporter takes the spans elsewhere: it is no part of the road to the store.
    assert set(found.not_in_stack) == {
        "local.file_match.scanium_logs",
        "loki.source.file.scanium_logs",
        "loki.write.grafana_loki",
        "otelcol.exporter.otlp.tempo",
        "prometheus.scrape.alloy_self",
        "prometheus.scrape.node_exporter",
    }
    assert "verifies otelcol.receiver.otlp.default (OTLP/HTTP 0.0.0.0:4318)" in found.describe()


def test_the_contracts_job_picks_the_scrape_before_the_port() -> None:
    found = discover(
        [scrape("a", "a:8080", job_name="other"), scrape("b", "b:8080", job_name="api"), writer()],
        job="api",
    )
    assert found.scrape == "prometheus.scrape.b"
    assert "job is the contract's 'api'" in found.chosen_because


def test_a_component_the_contract_names_wins_when_the_config_has_it() -> None:
    components = [scrape("a", "a:8080"), scrape("b", "b:8080"), writer()]
    assert discover(components, scrape_component="prometheus.scrape.a").scrape == (
        "prometheus.scrape.a"
    )


def test_a_component_the_contract_names_but_the_config_lacks_is_discovered_instead() -> None:
    found = discover(production_style(), scrape_component="prometheus.scrape.backend")
    assert found.scrape == "prometheus.scrape.scanium_api"


def test_two_scrapes_nothing_tells_apart_is_an_error_naming_both() -> None:
    with pytest.raises(ConfigurationError) as raised:
        discover([scrape("a", "a:8080"), scrape("b", "b:8080"), writer()], job="api")
    assert "prometheus.scrape.a, prometheus.scrape.b" in str(raised.value)
    assert "scrape.component" in str(raised.value)


def test_without_job_name_the_job_is_the_component_id_and_a_target_label_wins() -> None:
    assert discover([scrape("only", "api:8080"), writer()]).job == "prometheus.scrape.only"
    labelled = AlloyComponent(
        id="prometheus.scrape.x",
        references_to=("prometheus.remote_write.store",),
        arguments={"targets": [{"__address__": "api:8080", "job": "from-target"}]},
    )
    assert discover([labelled, writer()]).job == "from-target"


def test_a_scrape_that_reaches_no_remote_write_is_no_pipeline() -> None:
    with pytest.raises(ConfigurationError, match=r"no prometheus\.scrape component that forwards"):
        discover([scrape("a", "a:8080", forward="prometheus.relabel.nowhere"), writer()])


def test_targets_from_service_discovery_cannot_be_answered() -> None:
    discovered = AlloyComponent(
        id="prometheus.scrape.k8s",
        references_to=("discovery.kubernetes.pods", "prometheus.remote_write.store"),
        arguments={"targets": []},
    )
    with pytest.raises(ConfigurationError, match=r"discovery\.kubernetes\.pods"):
        discover([discovered, writer()])


@pytest.mark.parametrize(
    ("components", "named"),
    [
        ([scrape("api", "api:9090"), writer()], "prometheus.scrape.api scrapes http://api:9090"),
        (
            [scrape("api", "api:8080", scheme="https"), writer()],
            "prometheus.scrape.api scrapes https://api:8080",
        ),
        (
            [scrape("api", "api:8080"), writer(url="https://mimir.example.com/api/v1/push")],
            "prometheus.remote_write.store writes to https://mimir.example.com/api/v1/push",
        ),
        ([scrape("api", "10.0.0.7:8080"), writer()], "10.0.0.7 is an IP address"),
    ],
)
def test_what_the_stack_cannot_answer_is_bad_input_naming_the_component(
    components: list[AlloyComponent], named: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        discover(components)
    assert named in str(raised.value)


def test_a_deployments_own_alloy_is_not_held_to_the_test_stacks_ports() -> None:
    found = discover(
        [scrape("api", "api:9090"), writer(url="https://mimir.example.com/api/v1/push")],
        in_test_stack=False,
    )
    assert found.target == "api:9090"


def test_aliases_keep_ours_and_add_the_configs_host_names(tmp_path: Path) -> None:
    found = discover(production_style())
    assert network_aliases(found) == {
        "backend": ["scanium-api.prod.svc.cluster.local", "scanium-backend"],
        "store": ["mimir", "mimir-distributor.monitoring.svc.cluster.local"],
    }
    override = json.loads(write_alias_override(found, tmp_path).read_text())
    assert override["services"]["store"]["networks"]["default"]["aliases"] == [
        "mimir",
        "mimir-distributor.monitoring.svc.cluster.local",
    ]


# Alloy v1.0.0's own output for a config with a misspelt attribute (recorded).
REJECTION_LOG = """\
ts=2026-12-02T04:30:13.1Z level=info msg="starting complete graph evaluation"
ts=2026-12-02T04:30:13.1Z level=error msg="failed to evaluate config" node=prometheus.scrape.x \
err="decoding configuration: /etc/alloy/config.alloy:4:3: unrecognized attribute name"
ts=2026-12-02T04:30:13.1Z level=info msg="finished complete graph evaluation"
Error: /etc/alloy/config.alloy:4:3: unrecognized attribute name "jobname"

3 |   forward_to = []
4 |   jobname = "x"
  |   ^^^^^^^^^^^^^
5 | }
ts=2026-12-02T04:30:13.1Z level=error msg="failed to start reporter" err="context canceled"
Error: could not perform the initial load successfully
"""


def test_alloys_rejection_is_its_own_error_with_the_users_path() -> None:
    text = alloy_rejection(REJECTION_LOG, Path("/home/me/config.alloy"))
    assert text.splitlines()[0] == (
        'Error: /home/me/config.alloy:4:3: unrecognized attribute name "jobname"'
    )
    assert '4 |   jobname = "x"' in text
    assert "ts=" not in text
