"""Routing: does the incident's alert reach a receiver, through the team's route tree?

The store's Alertmanager (Cortex's) runs the user's Alertmanager config with one change:
every receiver's integrations are replaced by a webhook to the sink in the stack
(fixtures/alert-sink/), so a delivery can be seen; a receiver that had no integration (a
"null" receiver, which pages no one) is remembered as such. The route tree, matchers,
`continue`, inhibitions and mute timings are kept. Also changed, so the proof takes
seconds: `group_wait` 0s and `group_interval` 1s on every route, and `templates` dropped
(no template file reaches the store's Alertmanager). The noticing alert is posted with the
labels its rule gives it (rule labels and the series' labels, `alertname`); the receivers
are those Alertmanager routed it to (its API), each delivery seen at the sink.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from scanium_e2e.alerts.loading import RuleFileError, read_yaml
from scanium_e2e.errors import EndpointError
from scanium_e2e.polling import TransientError, poll

SINK_URL = "http://alert-sink:8080"


@dataclass(frozen=True)
class RoutingConfig:
    """The user's Alertmanager config, rewritten for the stack."""

    source: Path
    document: Mapping[str, Any]
    null_receivers: frozenset[str]
    receivers: tuple[str, ...]


def _routes(route: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = [dict(route)]
    for child in route.get("routes") or []:
        out.extend(_routes(child))
    return out


def _rewrite_route(route: Mapping[str, Any]) -> dict[str, Any]:
    rewritten = {**route, "group_wait": "0s", "group_interval": "1s"}
    if route.get("routes"):
        rewritten["routes"] = [_rewrite_route(child) for child in route["routes"]]
    return rewritten


def load_routing(path: Path) -> RoutingConfig:
    """Read an Alertmanager config and point every receiver at the stack's webhook sink."""
    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("route"), dict):
        raise RuleFileError(
            f"{path} is not an Alertmanager config (a `route:` tree and `receivers:`)."
        )
    receivers = data.get("receivers") or []
    if not isinstance(receivers, list) or not all(
        isinstance(r, dict) and r.get("name") for r in receivers
    ):
        raise RuleFileError(f"{path}: `receivers` must be a list of receivers with a `name`.")
    names = [str(r["name"]) for r in receivers]
    for route in _routes(data["route"]):
        wanted = route.get("receiver")
        if wanted is not None and str(wanted) not in names:
            raise RuleFileError(f"{path}: a route names receiver `{wanted}`, which is not defined.")
    null = frozenset(
        str(r["name"]) for r in receivers if not any(k.endswith("_configs") and r[k] for k in r)
    )
    document = {k: v for k, v in data.items() if k != "templates"}
    document["global"] = {
        k: v for k, v in (data.get("global") or {}).items() if not str(k).endswith("_file")
    }
    document["route"] = _rewrite_route(data["route"])
    document["receivers"] = [
        {
            "name": name,
            "webhook_configs": [
                {
                    "url": f"{SINK_URL}/receiver/{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}",
                    "send_resolved": False,
                }
            ],
        }
        for name in names
    ]
    return RoutingConfig(path, document, null, tuple(names))


@dataclass
class Delivery:
    """Where the incident's alert went."""

    alert: Mapping[str, str]
    routed_to: list[str] = field(default_factory=list)
    delivered_to: list[str] = field(default_factory=list)
    null_receivers: frozenset[str] = frozenset()

    @property
    def paged(self) -> list[str]:
        """Receivers that got it and page someone (not null ones)."""
        return [name for name in self.delivered_to if name not in self.null_receivers]


class AlertmanagerClient:
    """The store's Alertmanager: its config API, its v2 API, and the stack's sink."""

    def __init__(self, base_url: str, sink_url: str, *, tenant: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.sink_url = sink_url.rstrip("/")
        headers = {"X-Scope-OrgID": tenant} if tenant else {}
        self._http = httpx.Client(timeout=5.0, headers=headers)

    def close(self) -> None:
        """Release the HTTP connections."""
        self._http.close()

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise TransientError(f"{url} is unreachable ({exc})") from None

    def configure(self, config: RoutingConfig) -> None:
        """Give the store's Alertmanager the rewritten config (`POST /api/v1/alerts`)."""
        body = yaml.safe_dump(
            {
                "alertmanager_config": yaml.safe_dump(dict(config.document), sort_keys=False),
                "template_files": {},
            },
            sort_keys=False,
        )
        url = f"{self.base_url}/api/v1/alerts"
        response = self._request(
            "POST", url, content=body, headers={"Content-Type": "application/yaml"}
        )
        if response.status_code not in (200, 201, 202):
            raise EndpointError(
                f"the store's Alertmanager refused {config.source} (POST {url}: HTTP "
                f"{response.status_code}: {response.text.strip()[:400]})"
            )

    def wait_ready(self, timeout_s: float) -> None:
        """Until the tenant's Alertmanager runs the config (its v2 status answers 200)."""

        def probe() -> int:
            return self._request("GET", f"{self.base_url}/alertmanager/api/v2/status").status_code

        poll(
            probe,
            lambda code: code == 200,
            what="the store's Alertmanager taking the config",
            timeout_s=timeout_s,
            interval_s=0.25,
            describe=lambda code: f"HTTP {code}",
        )

    def post(self, labels: Mapping[str, str], annotations: Mapping[str, str]) -> None:
        """Post one active alert (`/alertmanager/api/v2/alerts`)."""
        alert = {
            "labels": dict(labels),
            "annotations": dict(annotations),
            "startsAt": datetime.now(UTC).isoformat(),
        }
        url = f"{self.base_url}/alertmanager/api/v2/alerts"
        response = self._request("POST", url, json=[alert])
        if response.status_code != 200:
            raise EndpointError(f"POST {url}: HTTP {response.status_code}: {response.text[:300]}")

    def routed(self, labels: Mapping[str, str]) -> list[str]:
        """The receivers Alertmanager routed the alert with exactly these labels to."""
        response = self._request("GET", f"{self.base_url}/alertmanager/api/v2/alerts")
        if response.status_code != 200:
            return []
        for alert in response.json():
            if dict(alert.get("labels") or {}) == dict(labels):
                return [str(r.get("name")) for r in alert.get("receivers") or []]
        return []

    def delivered(self, labels: Mapping[str, str]) -> list[str]:
        """The receivers whose webhook (at the sink) got a notification with the alert."""
        response = self._request("GET", f"{self.sink_url}/notifications")
        got = []
        for entry in response.json() if response.status_code == 200 else []:
            body = entry.get("body") or {}
            if any(dict(a.get("labels") or {}) == dict(labels) for a in body.get("alerts") or []):
                got.append(str(body.get("receiver", "")))
        return sorted(set(got))


def deliver(
    client: AlertmanagerClient,
    config: RoutingConfig,
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    *,
    timeout_s: float,
) -> Delivery:
    """Post the alert; wait until Alertmanager has routed it and the sink has a delivery
    from every receiver it was routed to (the final answer), or the deadline."""
    client.post(labels, annotations)
    delivery = Delivery(dict(labels), null_receivers=config.null_receivers)

    def probe() -> Delivery:
        delivery.routed_to = client.routed(labels)
        delivery.delivered_to = client.delivered(labels)
        return delivery

    def final(seen: Delivery) -> bool:
        return bool(seen.routed_to) and set(seen.routed_to) <= set(seen.delivered_to)

    began = time.monotonic()
    poll(
        probe,
        final,
        what="the incident's alert reaching its receivers",
        timeout_s=timeout_s,
        interval_s=0.25,
        raise_on_timeout=False,
        describe=lambda d: (
            f"routed to {d.routed_to}, delivered to {d.delivered_to} "
            f"after {time.monotonic() - began:.1f}s"
        ),
    )
    return delivery


def alert_labels(
    name: str, rule_labels: Mapping[str, str], series_labels: Mapping[str, str]
) -> dict[str, str]:
    """The labels the ruler gives an alert: the series', the rule's, and `alertname`."""
    return {**dict(series_labels), **dict(rule_labels), "alertname": name}


def describe_receivers(names: Sequence[str], null: frozenset[str]) -> str:
    """`oncall-pager, ticket-queue (null)` for messages."""
    return ", ".join(f"{n} (null receiver)" if n in null else n for n in names) or "no receiver"
