"""The one query client over the store's Prometheus API (Mimir, or Cortex in its place).

prometheus-api-client does the HTTP; this module adds the tenant header, the path prefix,
fail-fast connection handling and results shaped for the checks (`Sample`, `Series`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.util.retry import Retry

from scanium_e2e.errors import EndpointError
from scanium_e2e.polling import TransientError


@dataclass(frozen=True)
class Sample:
    """One instant-vector element: labels and a float value."""

    labels: dict[str, str]
    value: float

    def describe(self) -> str:
        """`name{a="b"} = 1` form for messages."""
        name = self.labels.get("__name__", "")
        pairs = ",".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()) if k != "__name__")
        return f"{name}{{{pairs}}} = {self.value:g}"


@dataclass(frozen=True)
class Series:
    """One range-vector element: labels and (timestamp, value) points."""

    labels: dict[str, str]
    points: list[tuple[float, float]] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        """True when at least one point is a real number (not NaN)."""
        return any(not math.isnan(value) for _, value in self.points)


@dataclass
class QueryRecord:
    """A query and what it returned, kept for failure messages and artifacts."""

    kind: str
    query: str
    result: str


class QueryError(EndpointError):
    """The store answered the query with an error (bad PromQL, limits, 4xx/5xx)."""


class MimirClient:
    """Queries the store (Mimir, Cortex or any Prometheus-compatible API) for the checks."""

    def __init__(
        self,
        base_url: str,
        *,
        prefix: str = "/prometheus",
        tenant: str = "",
        timeout_s: float = 10.0,
        name: str = "the store",
    ) -> None:
        # What messages call the store: the product that actually runs ("Cortex", ...).
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.api_url = self.base_url + prefix.rstrip("/")
        headers = {"X-Scope-OrgID": tenant} if tenant else {}
        # No retries inside the client: polling is the one place that waits.
        self._prom = PrometheusConnect(
            url=self.api_url, headers=headers, retry=Retry(total=0), timeout=int(timeout_s)
        )
        self._session = requests.Session()
        self._session.headers.update(headers)
        self._timeout_s = timeout_s
        self.history: list[QueryRecord] = []

    def close(self) -> None:
        """Release HTTP connections."""
        self._prom.close()
        self._session.close()

    def _remember(self, kind: str, query: str, result: object) -> None:
        text = repr(result)
        self.history.append(QueryRecord(kind, query, text[:2000]))
        del self.history[:-200]

    def _call(self, kind: str, query: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
        except requests.ConnectionError as exc:
            raise TransientError(
                f"{self.name} at {self.base_url} is unreachable ({_reason(exc)})"
            ) from None
        except requests.Timeout:
            raise TransientError(f"{self.name} at {self.base_url} did not answer in time") from None
        except PrometheusApiClientException as exc:
            message = str(exc)
            self._remember(kind, query, message)
            if "HTTP Status Code 5" in message:
                raise TransientError(f"{self.name} answered {message[:300]}") from None
            raise QueryError(
                f"{self.name} rejected the {kind} `{query}`: {message[:500]}"
            ) from None
        self._remember(kind, query, result)
        return result

    def instant(self, query: str, at: datetime | None = None) -> list[Sample]:
        """Evaluate `query` at `at` (default now) and return the instant vector."""
        params = {"time": f"{at.timestamp():.3f}"} if at else None
        raw = self._call("query", query, self._prom.custom_query, query, params=params)
        return [_sample(item) for item in raw if "value" in item]

    def range(self, query: str, start: datetime, end: datetime, step_s: float) -> list[Series]:
        """Evaluate `query` over [start, end] with `step_s` resolution."""
        step = f"{max(step_s, 1.0):g}s"
        raw = self._call(
            "range query", query, self._prom.custom_query_range, query, start, end, step
        )
        return [
            Series(
                labels=dict(item.get("metric", {})),
                points=[(float(t), _float(v)) for t, v in item.get("values", [])],
            )
            for item in raw
        ]

    def series(self, match: str, start: datetime, end: datetime) -> list[dict[str, str]]:
        """Label sets of the series matching `match` in [start, end]."""
        raw = self._get("series", "/api/v1/series", match, [("match[]", match)], start, end)
        return [dict(item) for item in raw]

    def label_values(
        self,
        label: str,
        match: str = "",
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[str]:
        """Values of `label`, optionally only on series matching `match`."""
        params = [("match[]", match)] if match else []
        raw = self._get("label values", f"/api/v1/label/{label}/values", match, params, start, end)
        return [str(value) for value in raw]

    def label_names(
        self, match: str = "", start: datetime | None = None, end: datetime | None = None
    ) -> list[str]:
        """Label names, optionally only on series matching `match`."""
        params = [("match[]", match)] if match else []
        raw = self._get("label names", "/api/v1/labels", match, params, start, end)
        return [str(value) for value in raw]

    def metric_names(self, start: datetime | None = None, end: datetime | None = None) -> list[str]:
        """Every metric name the store knows (in the window, when given)."""
        return self.label_values("__name__", start=start, end=end)

    def _get(
        self,
        kind: str,
        path: str,
        query: str,
        params: list[tuple[str, str]],
        start: datetime | None,
        end: datetime | None,
    ) -> Any:
        if start is not None:
            params.append(("start", f"{start.timestamp():.3f}"))
        if end is not None:
            params.append(("end", f"{end.timestamp():.3f}"))

        def fetch() -> Any:
            response = self._session.get(
                self.api_url + path, params=params, timeout=self._timeout_s
            )
            if response.status_code != 200:
                raise PrometheusApiClientException(
                    f"HTTP Status Code {response.status_code} ({response.text[:300]!r})"
                )
            return response.json().get("data", [])

        return self._call(kind, f"{path} {query}".strip(), fetch)

    def ready(self) -> str:
        """The store's /ready answer; raises TransientError until it is 200 'ready'."""
        try:
            response = self._session.get(self.base_url + "/ready", timeout=self._timeout_s)
        except requests.RequestException as exc:
            raise TransientError(f"{self.name} /ready unreachable ({_reason(exc)})") from None
        if response.status_code != 200:
            raise TransientError(
                f"{self.name} /ready: HTTP {response.status_code} {response.text[:200]}"
            )
        return response.text.strip()

    def own_metrics(self) -> str:
        """The store's own /metrics text (discarded samples and the like)."""
        try:
            response = self._session.get(self.base_url + "/metrics", timeout=self._timeout_s)
        except requests.RequestException as exc:
            raise EndpointError(f"{self.name} /metrics unreachable ({_reason(exc)})") from None
        return response.text


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out", "No route"):
        if marker in text:
            return marker.lower()
    return type(exc).__name__


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _sample(item: dict[str, Any]) -> Sample:
    return Sample(labels=dict(item.get("metric", {})), value=_float(item["value"][1]))


def utc_now() -> datetime:
    """Timezone-aware now, for query windows."""
    return datetime.now(UTC)
