"""The store's own ruler evaluates Prometheus rule files: load them, read their states.

Rule groups go to the ruler's configuration API (`POST /api/v1/rules/<namespace>`, one
group as YAML, Cortex's path; Mimir's `<prefix>/config/v1/rules/<namespace>` when that one
answers 404), each with `interval: 1s` so
the ruler evaluates it every second whatever interval the file asks for (`for:` and every
PromQL window keep their meaning). States, evaluation errors and active alerts are read
from the Prometheus rules API (`GET <prefix>/api/v1/rules`). Nothing here evaluates PromQL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import yaml

from scanium_e2e.alerts.model import PrometheusGroup
from scanium_e2e.errors import EndpointError
from scanium_e2e.polling import TransientError

EVALUATION_INTERVAL = "1s"


def namespace_of(rule_set: str, group: PrometheusGroup) -> str:
    """The ruler namespace of a group: the rule set's name and its file's stem."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", group.file.stem).strip("-") or "rules"
    return f"scanium-e2e.{rule_set}.{stem}"


def parse_time(text: str) -> datetime | None:
    """An RFC 3339 time from the rules API (nanoseconds cut to micro); None for zero."""
    if not text or text.startswith("0001-"):
        return None
    match = re.fullmatch(r"(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)", text)
    if not match:
        return None
    base, fraction, zone = match.groups()
    fraction = (fraction or ".0")[:7]
    return datetime.fromisoformat(base + fraction + ("+00:00" if zone == "Z" else zone))


@dataclass(frozen=True)
class LoadedGroup:
    """A group as the rules API shows it: its namespace, name, rules and last evaluation."""

    namespace: str
    name: str
    rules: tuple[Mapping[str, Any], ...]
    last_evaluation: datetime | None


class RulerClient:
    """The store's ruler (configuration API) and its Prometheus rules API."""

    def __init__(
        self,
        base_url: str,
        *,
        prefix: str = "/prometheus",
        tenant: str = "",
        name: str = "the store",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.rules_url = self.base_url + prefix.rstrip("/") + "/api/v1/rules"
        self.name = name
        headers = {"X-Scope-OrgID": tenant} if tenant else {}
        self._http = httpx.Client(timeout=5.0, headers=headers)

    def close(self) -> None:
        """Release the HTTP connections."""
        self._http.close()

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise TransientError(f"{self.name} at {self.base_url} is unreachable ({exc})") from None

    def load(self, namespace: str, group: PrometheusGroup) -> None:
        """Post one group into `namespace`, evaluated every second."""
        document = {**group.document, "interval": EVALUATION_INTERVAL}
        body = yaml.safe_dump(document, sort_keys=False)
        url = f"{self.base_url}/api/v1/rules/{namespace}"
        response = self._request(
            "POST", url, content=body, headers={"Content-Type": "application/yaml"}
        )
        if response.status_code == 404:
            # Mimir serves the same API under its Prometheus prefix only.
            url = f"{self.rules_url.removesuffix('/api/v1/rules')}/config/v1/rules/{namespace}"
            response = self._request(
                "POST", url, content=body, headers={"Content-Type": "application/yaml"}
            )
        if response.status_code not in (200, 201, 202):
            raise EndpointError(
                f"{self.name}'s ruler refused group `{group.name}` of {group.file} "
                f"(POST {url}: HTTP {response.status_code}: {response.text.strip()[:300]}); "
                "is the ruler API enabled (ruler.enable_api)?"
            )

    def load_all(self, rule_set: str, groups: Sequence[PrometheusGroup]) -> list[str]:
        """Load every group; returns the namespaces used."""
        namespaces = []
        for group in groups:
            namespace = namespace_of(rule_set, group)
            self.load(namespace, group)
            namespaces.append(namespace)
        return namespaces

    def groups(self) -> list[LoadedGroup]:
        """Every loaded group with its rules' states (rules API)."""
        response = self._request("GET", self.rules_url)
        if response.status_code >= 500:
            raise TransientError(f"{self.name} rules API: HTTP {response.status_code}")
        if response.status_code != 200:
            raise EndpointError(
                f"{self.name} rules API (GET {self.rules_url}) answered HTTP "
                f"{response.status_code}: {response.text.strip()[:300]}"
            )
        data = response.json().get("data") or {}
        return [
            LoadedGroup(
                namespace=str(group.get("file", "")),
                name=str(group.get("name", "")),
                rules=tuple(group.get("rules") or ()),
                last_evaluation=parse_time(str(group.get("lastEvaluation", ""))),
            )
            for group in data.get("groups") or []
        ]
