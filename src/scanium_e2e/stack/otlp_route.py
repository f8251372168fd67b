"""The OTLP road through an Alloy config, as Alloy evaluated it.

The backend pushes its OpenTelemetry metrics and spans to an `otelcol.receiver.otlp`; from
there they pass `otelcol.processor.*` stages to an `otelcol.exporter.prometheus` (metrics)
or through an `otelcol.connector.spanmetrics` first (spans), and on to a
`prometheus.remote_write`. Alloy's component API shows each component's references and
which signals its `output` block wires (the consumers themselves are opaque capsules), so
`follow` walks the references signal by signal, letting a signal into a component only if
that kind takes it (an exporter.prometheus takes metrics, a span-metrics connector spans)
and out of it only if its output wires it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from scanium_e2e.errors import ConfigurationError
from scanium_e2e.stack.alloy_config import AlloyComponent, reachable_writers, writer_url

RECEIVER = "otelcol.receiver.otlp"
EXPORTER = "otelcol.exporter.prometheus"
SPANMETRICS = "otelcol.connector.spanmetrics"
# Alloy v1.0's HTTP endpoint for an `http` block that names none.
DEFAULT_HTTP_ENDPOINT = "0.0.0.0:4318"
SIGNALS = ("metrics", "logs", "traces")


def wired_signals(component: AlloyComponent) -> tuple[str, ...]:
    """The signals a component's `output` block passes on (none without one)."""
    output = component.arguments.get("output") or []
    block = output[0] if output and isinstance(output[0], Mapping) else {}
    return tuple(signal for signal in SIGNALS if block.get(signal))


def _takes(kind: str, signal: str) -> bool:
    """Whether a component of `kind` consumes `signal`."""
    if kind == EXPORTER:
        return signal == "metrics"
    if kind == SPANMETRICS:
        return signal == "traces"
    if kind.startswith("otelcol.exporter.loki"):
        return signal == "logs"
    return kind.startswith("otelcol.")


def _walk(
    start: AlloyComponent, signal: str, by_id: Mapping[str, AlloyComponent]
) -> tuple[list[str], list[str]]:
    """From `start`, following `signal`: the exporter.prometheus components it reaches
    (spans through a span-metrics connector, which turns them into metrics), and the
    components on the way."""
    exporters: list[str] = []
    path: list[str] = []
    seen = {start.id}
    frontier: list[tuple[AlloyComponent, str]] = [(start, signal)]
    while frontier:
        component, carried = frontier.pop(0)
        if carried not in wired_signals(component):
            continue
        for target in component.references_to:
            following = by_id.get(target)
            if following is None or target in seen or not _takes(following.kind, carried):
                continue
            if following.kind.startswith("otelcol.exporter.") and following.kind != EXPORTER:
                continue  # another store's exporter (Tempo, Loki): not the road to ours
            seen.add(target)
            if following.kind == EXPORTER:
                exporters.append(target)
            elif following.kind == SPANMETRICS:
                path.append(target)
                frontier.append((following, "metrics"))
            else:
                path.append(target)
                frontier.append((following, carried))
    return exporters, path


@dataclass(frozen=True)
class OtlpRoute:
    """Where one OTLP receiver's metrics and spans go; empty ids where they go nowhere.

    `endpoint` is its HTTP listen address ("" without an `http` block: an OTLP/HTTP
    exporter cannot reach it); `wired` the signals its output passes on.
    """

    receiver: str
    endpoint: str
    wired: tuple[str, ...]
    exporter: str = ""
    remote_write: str = ""
    span_exporter: str = ""
    span_remote_write: str = ""
    # The URLs its remote writes push to ("" where there is none).
    remote_write_url: str = ""
    span_remote_write_url: str = ""
    # Every component the metrics and spans pass, the receiver and writers included.
    components: tuple[str, ...] = ()

    @property
    def host(self) -> str:
        """The address it listens on ("0.0.0.0")."""
        return self.endpoint.rpartition(":")[0]

    @property
    def port(self) -> int | None:
        """The port it listens on, when it has an HTTP endpoint."""
        port = self.endpoint.rpartition(":")[2]
        return int(port) if port.isdigit() else None

    def describe(self) -> str:
        """One line for the report header."""
        metrics = (
            f"metrics -> {self.exporter} -> {self.remote_write}"
            if self.remote_write
            else "metrics reach no remote write"
        )
        spans = (
            f"; spans -> span metrics -> {self.span_exporter} -> {self.span_remote_write}"
            if self.span_remote_write
            else ""
        )
        return f"verifies {self.receiver} (OTLP/HTTP {self.endpoint or 'none'}): {metrics}{spans}"


def follow(components: Iterable[AlloyComponent], receiver: str) -> OtlpRoute:
    """The route of `receiver`'s metrics and spans through `components`."""
    by_id = {component.id: component for component in components}
    start = by_id[receiver]
    http = start.arguments.get("http")
    endpoint = ""
    if isinstance(http, list) and http:
        block = http[0] if isinstance(http[0], Mapping) else {}
        endpoint = str(block.get("endpoint") or DEFAULT_HTTP_ENDPOINT)
    exporters, path = _walk(start, "metrics", by_id)
    writers = [w for exporter in exporters for w in reachable_writers(by_id[exporter], by_id)[0]]
    span_exporters, span_path = _walk(start, "traces", by_id)
    span_writers = [
        w for exporter in span_exporters for w in reachable_writers(by_id[exporter], by_id)[0]
    ]
    return OtlpRoute(
        receiver=receiver,
        endpoint=endpoint,
        wired=wired_signals(start),
        exporter=exporters[0] if exporters else "",
        remote_write=writers[0] if writers else "",
        span_exporter=span_exporters[0] if span_exporters else "",
        span_remote_write=span_writers[0] if span_writers else "",
        remote_write_url=writer_url(by_id[writers[0]]) if writers else "",
        span_remote_write_url=writer_url(by_id[span_writers[0]]) if span_writers else "",
        components=tuple(
            dict.fromkeys(
                [receiver, *path, *exporters, *writers, *span_path, *span_exporters, *span_writers]
            )
        ),
    )


def receivers(components: Iterable[AlloyComponent]) -> list[AlloyComponent]:
    """The config's OTLP receivers."""
    return [component for component in components if component.kind == RECEIVER]


def line_of(component_id: str, config: Path | None) -> str:
    """` (line N of FILE)` where the config declares `component_id`, or ""."""
    if config is None:
        return ""
    kind, _, label = component_id.rpartition(".")
    try:
        lines = config.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    for number, line in enumerate(lines, start=1):
        words = line.strip().split()
        if len(words) >= 2 and words[0] == kind and words[1].strip('"') == label:
            return f" (line {number} of {config})"
    return ""


# Addresses a receiver listening only on the loopback of Alloy's container: the backend, in
# another container, cannot reach them.
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def _problems(route: OtlpRoute) -> list[str]:
    """Why the backend's metrics cannot take `route` to a store (empty: they can)."""
    problems = []
    if not route.endpoint:
        problems.append("it has no `http` block, so the backend's OTLP/HTTP export cannot reach it")
    elif route.host in _LOOPBACK:
        problems.append(
            f"it listens on {route.endpoint}, the loopback of Alloy's own container, which the "
            "backend cannot reach"
        )
    if "metrics" not in route.wired:
        problems.append(
            f"its output wires {', '.join(route.wired) or 'nothing'} but no `metrics`, so "
            "the backend's metrics go nowhere"
        )
    elif not route.remote_write:
        problems.append(
            "its metrics reach no otelcol.exporter.prometheus that forwards to a "
            "prometheus.remote_write, so nothing of them reaches a store"
        )
    return problems


def discover_otlp(
    components: Iterable[AlloyComponent], *, receiver: str, config: Path | None = None
) -> tuple[OtlpRoute, str]:
    """The receiver the backend exports to, its route, and why it was chosen.

    The contract may name it (`otlp.receiver`, used when the config has it); otherwise it
    is the only receiver whose metrics reach a remote write over HTTP. Raises
    ConfigurationError, naming each receiver, its line and what keeps it from carrying the
    backend's metrics to a store, when none can, or when several can and none is named.
    """
    listed = list(components)
    found = receivers(listed)
    routes = {component.id: follow(listed, component.id) for component in found}
    if receiver in routes:
        route = routes[receiver]
        because = f"{receiver} is named by the contract (otlp.receiver)"
    else:
        usable = [route for route in routes.values() if not _problems(route)]
        if len(usable) > 1:
            raise ConfigurationError(
                "the Alloy config has several OTLP receivers that carry metrics to a "
                "prometheus.remote_write ("
                + ", ".join(f"{r.receiver}{line_of(r.receiver, config)}" for r in usable)
                + ") and none is the contract's `otlp.receiver` "
                f"({receiver}): name the one the backend exports to there."
            )
        if not usable:
            if not routes:
                raise ConfigurationError(
                    "the contract says the backend pushes OTLP metrics (its `otlp` section), "
                    "but the Alloy config has no otelcol.receiver.otlp: add the receiver the "
                    "backend exports to, or verify with a contract without `otlp`."
                )
            reasons = "; ".join(
                f"{r.receiver}{line_of(r.receiver, config)}: {', '.join(_problems(r))}"
                for r in routes.values()
            )
            raise ConfigurationError(
                "the contract says the backend pushes OTLP metrics, but no OTLP receiver of the "
                f"Alloy config can carry them to a store: {reasons}."
            )
        route = usable[0]
        because = "discovered: the only OTLP receiver whose metrics reach a remote write"
    problems = _problems(route)
    if problems:
        raise ConfigurationError(
            f"the backend's OTLP metrics cannot take {route.receiver}"
            f"{line_of(route.receiver, config)}: {'; '.join(problems)}."
        )
    return route, because
