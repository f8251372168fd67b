"""The OTLP road through an Alloy config (stack/otlp_route.py): which receiver the backend
exports to, where its metrics and spans go, and what keeps a config from carrying them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scanium_e2e.errors import ConfigurationError
from scanium_e2e.stack.alloy_config import AlloyComponent
from scanium_e2e.stack.otlp_route import discover_otlp, follow, line_of

CONSUMER = 'capsule("otelcol.Consumer")'
WRITER = AlloyComponent(
    id="prometheus.remote_write.mimir",
    arguments={"endpoint": [{"url": "http://mimir:9009/api/v1/push"}]},
)


def receiver(
    label: str, to: str, *, endpoint: str | None = "0.0.0.0:4319", signals: tuple[str, ...] = ()
) -> AlloyComponent:
    """An otelcol.receiver.otlp as `from_api` builds it (consumers are opaque capsules)."""
    arguments: dict[str, Any] = {
        "output": [{signal: [CONSUMER] for signal in signals or ("metrics", "traces")}]
    }
    if endpoint is not None:
        arguments["http"] = [{"endpoint": endpoint} if endpoint else {}]
    return AlloyComponent(f"otelcol.receiver.otlp.{label}", (to,), arguments)


def batch(label: str, *to: str, signals: tuple[str, ...] = ("metrics", "traces")) -> AlloyComponent:
    return AlloyComponent(
        f"otelcol.processor.batch.{label}",
        to,
        {"output": [{signal: [CONSUMER] for signal in signals}]},
    )


def exporter(label: str, to: str = WRITER.id) -> AlloyComponent:
    return AlloyComponent(f"otelcol.exporter.prometheus.{label}", (to,))


ROAD = [
    receiver("backend_http", "otelcol.processor.batch.b"),
    batch(
        "b",
        "otelcol.exporter.prometheus.m",
        "otelcol.connector.spanmetrics.s",
        "otelcol.exporter.otlp.tempo",
    ),
    exporter("m"),
    AlloyComponent(
        "otelcol.connector.spanmetrics.s",
        ("otelcol.exporter.prometheus.spans",),
        {"output": [{"metrics": [CONSUMER]}]},
    ),
    exporter("spans"),
    AlloyComponent("otelcol.exporter.otlp.tempo"),
    WRITER,
]


def test_metrics_and_spans_are_followed_to_the_remote_write() -> None:
    route = follow(ROAD, "otelcol.receiver.otlp.backend_http")
    assert (route.endpoint, route.port, route.wired) == (
        "0.0.0.0:4319",
        4319,
        ("metrics", "traces"),
    )
    assert (route.exporter, route.remote_write) == ("otelcol.exporter.prometheus.m", WRITER.id)
    assert route.span_exporter == "otelcol.exporter.prometheus.spans"
    assert route.remote_write_url == "http://mimir:9009/api/v1/push"
    # The Tempo exporter takes spans to another store: not part of the road.
    assert "otelcol.exporter.otlp.tempo" not in route.components


def test_an_http_block_without_endpoint_listens_on_alloys_default() -> None:
    road = [receiver("r", "otelcol.exporter.prometheus.m", endpoint=""), exporter("m"), WRITER]
    assert follow(road, "otelcol.receiver.otlp.r").endpoint == "0.0.0.0:4318"


def test_the_contracts_receiver_is_chosen_and_said_why() -> None:
    route, because = discover_otlp(ROAD, receiver="otelcol.receiver.otlp.backend_http")
    assert route.receiver == "otelcol.receiver.otlp.backend_http"
    assert "named by the contract (otlp.receiver)" in because


def test_the_only_usable_receiver_is_discovered() -> None:
    grpc_only = receiver("grpc", "otelcol.processor.batch.b", endpoint=None)
    route, because = discover_otlp([*ROAD, grpc_only], receiver="otelcol.receiver.otlp.other")
    assert route.receiver == "otelcol.receiver.otlp.backend_http"
    assert because.startswith("discovered")


@pytest.mark.parametrize(
    ("component", "problem"),
    [
        (
            receiver("r", "otelcol.processor.batch.b", endpoint=None),
            "it has no `http` block, so the backend's OTLP/HTTP export cannot reach it",
        ),
        (
            receiver("r", "otelcol.processor.batch.b", endpoint="127.0.0.1:4318"),
            "it listens on 127.0.0.1:4318, the loopback of Alloy's own container",
        ),
        (
            receiver("r", "otelcol.processor.batch.b", signals=("traces",)),
            "its output wires traces but no `metrics`, so the backend's metrics go nowhere",
        ),
        (
            receiver("r", "otelcol.exporter.otlp.tempo"),
            "its metrics reach no otelcol.exporter.prometheus that forwards to a "
            "prometheus.remote_write",
        ),
    ],
    ids=["grpc-only", "loopback", "metrics-unwired", "metrics-to-tempo"],
)
def test_a_receiver_that_cannot_carry_metrics_to_a_store_is_bad_input(
    component: AlloyComponent, problem: str, tmp_path: Path
) -> None:
    config = tmp_path / "config.alloy"
    config.write_text('// a config\n\notelcol.receiver.otlp "r" {\n}\n', encoding="utf-8")
    components = [component, *ROAD[1:]]
    with pytest.raises(ConfigurationError) as raised:
        discover_otlp(components, receiver="otelcol.receiver.otlp.r", config=config)
    message = str(raised.value)
    assert message.startswith("the backend's OTLP metrics cannot take otelcol.receiver.otlp.r")
    assert f"(line 3 of {config})" in message
    assert problem in message


def test_no_usable_receiver_names_each_and_why() -> None:
    unwired = receiver("a", "otelcol.processor.batch.b", signals=("traces",))
    with pytest.raises(ConfigurationError) as raised:
        discover_otlp([unwired, *ROAD[1:]], receiver="otelcol.receiver.otlp.backend_http")
    assert "no OTLP receiver of the Alloy config can carry them to a store" in str(raised.value)
    assert "otelcol.receiver.otlp.a: its output wires traces" in str(raised.value)


def test_no_receiver_at_all_says_the_contract_expects_one() -> None:
    with pytest.raises(ConfigurationError, match=r"has no otelcol\.receiver\.otlp"):
        discover_otlp([WRITER], receiver="otelcol.receiver.otlp.backend_http")


def test_two_usable_receivers_and_none_named_is_ambiguous() -> None:
    second = receiver("second", "otelcol.processor.batch.b", endpoint="0.0.0.0:4318")
    with pytest.raises(ConfigurationError) as raised:
        discover_otlp([*ROAD, second], receiver="otelcol.receiver.otlp.other")
    message = str(raised.value)
    assert "otelcol.receiver.otlp.backend_http, otelcol.receiver.otlp.second" in message
    assert "`otlp.receiver`" in message


def test_line_of_finds_the_block_and_says_nothing_without_a_file(tmp_path: Path) -> None:
    config = tmp_path / "c.alloy"
    config.write_text('otelcol.receiver.otlp "x" {}\notelcol.receiver.otlp "y" {}\n')
    assert line_of("otelcol.receiver.otlp.y", config) == f" (line 2 of {config})"
    assert line_of("otelcol.receiver.otlp.y", None) == ""
    assert line_of("otelcol.receiver.otlp.z", config) == ""
