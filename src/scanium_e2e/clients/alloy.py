"""Grafana Alloy as the suite sees it: readiness, scrape target health, remote-write counters.

Alloy's component API (`/api/v0/web/components/<id>`) is where the seed incident was
diagnosed: `prometheus.scrape.backend` reports each target's health and last scrape error.
Its debug info comes encoded as Alloy syntax values (`{"type": ..., "value": ...}` nests),
which `_decode` flattens into plain Python values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from scanium_e2e.errors import EndpointError
from scanium_e2e.metrics_text import parse_samples
from scanium_e2e.polling import TransientError

SCRAPE_COMPONENT = "prometheus.scrape.backend"
REMOTE_WRITE_COMPONENT = "prometheus.remote_write.mimir"

# Prometheus' scrape loop (which Alloy runs) reports a non-2xx answer as exactly
# `server returned HTTP status <code> <reason>` (Go's resp.Status); nothing else has a code.
_HTTP_STATUS = re.compile(r"\bHTTP status (\d{3})\b ?(.*)$", re.S)


@dataclass(frozen=True)
class ScrapeTarget:
    """One target of a `prometheus.scrape` component, as Alloy last saw it."""

    url: str
    health: str
    last_error: str
    last_scrape: str
    labels: dict[str, str]
    http_status: int | None = None
    http_reason: str = ""

    @property
    def up(self) -> bool:
        """True when the last scrape succeeded."""
        return self.health == "up"

    @property
    def last_scrape_at(self) -> float | None:
        """When the last scrape began (Unix seconds); None before the first one.

        Alloy reports RFC 3339 with nanoseconds, and Go's zero time before any scrape.
        """
        try:
            moment = datetime.fromisoformat(self.last_scrape)
        except ValueError:
            return None
        return moment.timestamp() if moment.year > 1 else None

    def describe(self) -> str:
        """One line for failure messages."""
        error = f", last error: {self.last_error}" if self.last_error else ""
        return f"{self.url} health={self.health or 'unknown'}{error}"


@dataclass(frozen=True)
class RemoteWriteCounters:
    """Alloy's own counters of what remote write did (from its /metrics)."""

    sent: float
    failed: float
    dropped: float
    retried: float


@dataclass(frozen=True)
class ReceiverCounters:
    """An `otelcol.receiver.*` component's own counters: points and spans it accepted
    (passed on) and refused (its next component failed them)."""

    accepted_points: float
    refused_points: float
    accepted_spans: float
    refused_spans: float


def otelcol_counter(name: str) -> str:
    """The name of an otelcol self-metric without what Alloy versions add to it: the
    `otelcol_` prefix (from v1.4) and the unit and type suffixes (`_ratio_total`, `_total`)."""
    name = name.removeprefix("otelcol_")
    for suffix in ("_ratio_total", "_total"):
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


class AlloyClient:
    """Talks to Alloy's HTTP server (default port 12345)."""

    def __init__(self, base_url: str, timeout_s: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(timeout=timeout_s)
        self.last_component_json: dict[str, Any] = {}

    def close(self) -> None:
        """Release HTTP connections."""
        self._http.close()

    def _get(self, path: str) -> httpx.Response:
        try:
            return self._http.get(self.base_url + path)
        except httpx.TransportError as exc:
            raise TransientError(f"Alloy at {self.base_url} unreachable ({exc!s})") from None

    def ready(self) -> str:
        """Alloy's /-/ready answer; raises TransientError until it is ready."""
        response = self._get("/-/ready")
        if response.status_code != 200:
            raise TransientError(f"Alloy /-/ready: HTTP {response.status_code}")
        return response.text.strip()

    def components(self) -> list[dict[str, Any]]:
        """The component list (ids, references, health; arguments only per component)."""
        response = self._get("/api/v0/web/components")
        if response.status_code != 200:
            raise TransientError(f"Alloy component API: HTTP {response.status_code}")
        data = response.json()
        if not isinstance(data, list):
            raise EndpointError(f"Alloy component list is {type(data).__name__}, not a list")
        return [item for item in data if isinstance(item, dict)]

    def component(self, component_id: str) -> dict[str, Any]:
        """The raw JSON of one component from the component API."""
        response = self._get(f"/api/v0/web/components/{component_id}")
        if response.status_code == 404:
            raise EndpointError(
                f"Alloy has no component {component_id}: is the config the Scanium one?"
            )
        if response.status_code != 200:
            raise TransientError(f"Alloy component API: HTTP {response.status_code}")
        data = response.json()
        if not isinstance(data, dict):
            raise EndpointError(
                f"Alloy component API returned {type(data).__name__}, not an object"
            )
        self.last_component_json = data
        return data

    def scrape_targets(self, component_id: str = SCRAPE_COMPONENT) -> list[ScrapeTarget]:
        """Every target of a scrape component with its health and last error."""
        return parse_scrape_targets(self.component(component_id))

    def own_metrics(self) -> str:
        """Alloy's /metrics text."""
        response = self._get("/metrics")
        if response.status_code != 200:
            raise TransientError(f"Alloy /metrics: HTTP {response.status_code}")
        return response.text

    def remote_write_counters(
        self, component_id: str = REMOTE_WRITE_COMPONENT
    ) -> RemoteWriteCounters:
        """Samples sent, failed, dropped and retried by one remote_write component."""
        samples = parse_samples(self.own_metrics())

        def total(*names: str) -> float:
            return sum(
                s.value
                for s in samples
                if s.name in names and s.labels.get("component_id", component_id) == component_id
            )

        return RemoteWriteCounters(
            sent=total("prometheus_remote_storage_samples_total"),
            failed=total("prometheus_remote_storage_samples_failed_total"),
            dropped=total("prometheus_remote_storage_samples_dropped_total"),
            retried=total("prometheus_remote_storage_samples_retried_total"),
        )

    def receiver_counters(self, component_id: str) -> ReceiverCounters:
        """What one OTLP receiver accepted and refused, from Alloy's /metrics (zero for a
        receiver that has not counted anything yet)."""
        totals: dict[str, float] = {}
        for sample in parse_samples(self.own_metrics()):
            if sample.labels.get("component_id") == component_id:
                base = otelcol_counter(sample.name)
                totals[base] = totals.get(base, 0.0) + sample.value
        return ReceiverCounters(
            accepted_points=totals.get("receiver_accepted_metric_points", 0.0),
            refused_points=totals.get("receiver_refused_metric_points", 0.0),
            accepted_spans=totals.get("receiver_accepted_spans", 0.0),
            refused_spans=totals.get("receiver_refused_spans", 0.0),
        )


def _decode(value: Any) -> Any:
    """Flatten Alloy's encoded syntax values into plain Python values."""
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("type")
    if kind in ("string", "number", "bool", "null", "capsule", "function") and "value" in value:
        return value["value"]
    if kind in ("array", "tuple") and "value" in value:
        return [_decode(item) for item in value["value"] or []]
    if kind in ("object", "map") and "value" in value:
        return {str(item.get("key")): _decode(item.get("value")) for item in value["value"] or []}
    if kind == "block" or ("body" in value and "name" in value):
        # A block: attributes become keys, nested blocks lists under their name.
        decoded: dict[str, Any] = {}
        for item in value.get("body") or []:
            name = str(item.get("name"))
            if item.get("type") == "attr":
                decoded[name] = _decode(item.get("value"))
            else:
                decoded.setdefault(name, []).append(_decode(item))
        return decoded
    return {key: _decode(item) for key, item in value.items()}


def decode_arguments(component_json: dict[str, Any]) -> dict[str, Any]:
    """A component's evaluated arguments as plain values (blocks become lists of dicts)."""
    decoded = _decode({"type": "block", "body": component_json.get("arguments") or []})
    return decoded if isinstance(decoded, dict) else {}


def http_status_of(last_error: str) -> tuple[int | None, str]:
    """The HTTP status code and reason phrase a scrape error reports, or (None, "").

    Connection errors, timeouts and parse errors carry no status: they give (None, "").
    """
    found = _HTTP_STATUS.search(last_error)
    if not found:
        return None, ""
    return int(found.group(1)), found.group(2).strip()


def parse_scrape_targets(component_json: dict[str, Any]) -> list[ScrapeTarget]:
    """Targets from a `prometheus.scrape` component's debug info."""
    debug = _decode(component_json.get("debugInfo"))
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "health" in node and ("url" in node or "labels" in node):
                found.append(node)
                return
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(debug)
    targets = []
    for item in found:
        last_error = str(item.get("last_error", "") or "")
        status, reason = http_status_of(last_error)
        targets.append(
            ScrapeTarget(
                url=str(item.get("url", "")),
                health=str(item.get("health", "")),
                last_error=last_error,
                last_scrape=str(item.get("last_scrape", "") or ""),
                labels={str(k): str(v) for k, v in (item.get("labels") or {}).items()},
                http_status=status,
                http_reason=reason,
            )
        )
    return targets
