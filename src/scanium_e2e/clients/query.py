"""The one query client over the store's Prometheus API (Mimir, or Cortex in its place).

prometheus-api-client does the HTTP; this module adds the tenant header, the path prefix,
fail-fast connection handling and results shaped for the checks (`Sample`, `Series`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from prometheus_api_client import PrometheusConnect
from urllib3.util.retry import Retry

from scanium_e2e.errors import EndpointError
from scanium_e2e.polling import TransientError
from scanium_e2e.settings import reading_environment


def _ca_bundle() -> str:
    """The CA bundle requests takes from the environment (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE)."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or ""


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


class _StoreAnswer:
    """What the store said when it refused a Prometheus API request (status and body)."""

    status: int
    error_type: str
    error: str

    @property
    def reason(self) -> str:
        """`bad_data: parse error ...`: the store's own words, with its error type."""
        return f"{self.error_type}: {self.error}" if self.error_type else self.error


class QueryError(_StoreAnswer, EndpointError):
    """The store refused a query (4xx): bad PromQL, a limit, a wrong prefix or tenant.

    `status`, `error_type` and `error` are the store's answer (`errorType` and `error` of
    its JSON body); the message is rendered from them. A bare `QueryError("message")` (as
    test doubles raise) has no answer and shows the message as its reason.
    """

    def __init__(
        self,
        message: str = "",
        *,
        status: int = 0,
        error_type: str = "",
        error: str = "",
        store: str = "the store",
        kind: str = "query",
        query: str = "",
    ) -> None:
        self.status, self.error_type, self.error = status, error_type, error or message
        self.store, self.kind, self.query = store, kind, query
        self._message = message
        super().__init__(message or error)

    def about(self, kind: str, query: str) -> QueryError:
        """The same refusal, naming the request it answered."""
        return QueryError(
            self._message,
            status=self.status,
            error_type=self.error_type,
            error=self.error,
            store=self.store,
            kind=kind,
            query=query,
        )

    def __str__(self) -> str:
        if self._message:
            return self._message
        what = f"the {self.kind} `{self.query}`" if self.query else f"the {self.kind}"
        return f"{self.store} rejected {what}: {self.reason}"


class StoreUnavailable(_StoreAnswer, TransientError):
    """The store answered 5xx (starting, overloaded, a querier down): polling keeps waiting."""

    def __init__(self, store: str, status: int, error_type: str, error: str) -> None:
        self.status, self.error_type, self.error = status, error_type, error
        super().__init__(f"{store} answered HTTP {status}: {self.reason}")


class StoreClient:
    """Queries the store (Mimir, Cortex or any Prometheus-compatible API) for the checks.

    Every request, the library's and /ready or /metrics alike, goes over one
    `requests.Session` carrying the tenant header; a response hook on it turns a refusal
    of the Prometheus API into `QueryError` (4xx) or `StoreUnavailable` (5xx) before the
    library sees the response.
    """

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
        self._session = requests.Session()
        # The environment's proxy and CA settings are read once, here. requests would read
        # os.environ on every call, and the count checks and the stacks beside the session's
        # query from background threads while pytest rewrites PYTEST_CURRENT_TEST: iterating
        # os.environ then raises KeyError (seen in CI).
        self._session.proxies.update(
            reading_environment(lambda: requests.utils.get_environ_proxies(self.api_url))
        )
        bundle = _ca_bundle()
        if bundle:
            self._session.verify = bundle
        self._session.trust_env = False
        if tenant:
            self._session.headers["X-Scope-OrgID"] = tenant
        self._session.hooks["response"].append(self._refusal)
        # No retries inside the client: polling is the one place that waits.
        self._prom = PrometheusConnect(
            url=self.api_url, session=self._session, retry=Retry(total=0), timeout=int(timeout_s)
        )
        self._timeout_s = timeout_s
        self.history: list[QueryRecord] = []

    def close(self) -> None:
        """Release HTTP connections."""
        self._prom.close()

    def _refusal(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Raise the store's refusal of a Prometheus API request as a structured error."""
        if not response.url.startswith(self.api_url + "/api/"):
            return  # /ready and /metrics judge their own answers
        if response.status_code == 200 or response.is_redirect:
            return
        error_type, error = _refusal_body(response)
        if response.status_code >= 500:
            raise StoreUnavailable(self.name, response.status_code, error_type, error)
        raise QueryError(
            status=response.status_code, error_type=error_type, error=error, store=self.name
        )

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
        except (QueryError, StoreUnavailable) as exc:
            self._remember(kind, query, f"HTTP {exc.status}: {exc.reason}")
            if isinstance(exc, QueryError):
                raise exc.about(kind, query) from None
            raise
        self._remember(kind, query, result)
        return result

    def instant(self, query: str, at: datetime | None = None) -> list[Sample]:
        """Evaluate `query` at `at` (default now) and return the instant vector."""
        params = {"time": f"{at.timestamp():.3f}"} if at else None
        raw = self._call("query", query, self._prom.custom_query, query, params=params)
        return [_sample(item) for item in raw if "value" in item]

    def range(self, query: str, start: datetime, end: datetime, step_s: float) -> list[Series]:
        """Evaluate `query` over [start, end] with `step_s` resolution (see `step_param`)."""
        step = step_param(step_s)
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
        raw = self._call(
            "series", match, self._prom.get_series, start, end, params={"match[]": match}
        )
        return [dict(item) for item in raw]

    def label_values(
        self,
        label: str,
        match: str = "",
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[str]:
        """Values of `label`, optionally only on series matching `match`."""
        params = _window(match, start, end)
        query = f"{label} {match}".strip()
        raw = self._call("label values", query, self._prom.get_label_values, label, params=params)
        return [str(value) for value in raw]

    def label_names(
        self, match: str = "", start: datetime | None = None, end: datetime | None = None
    ) -> list[str]:
        """Label names, optionally only on series matching `match`."""
        params = _window(match, start, end)
        raw = self._call("label names", match, self._prom.get_label_names, params=params)
        return [str(value) for value in raw]

    def metric_names(self, start: datetime | None = None, end: datetime | None = None) -> list[str]:
        """Every metric name the store knows (in the window, when given)."""
        return self.label_values("__name__", start=start, end=end)

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


def step_param(step_s: float) -> str:
    """A range query's `step` as the Prometheus API parses it: float seconds, whole ms.

    The API reads `step` as a float (`1.2`) or a duration of whole units (`1200ms`); `1.2s`
    is neither and is refused with 400 bad_data. Rounded up to a whole millisecond (at least
    one), so a step chosen to stay under the 11,000-point limit stays under it.
    """
    millis = max(1, math.ceil(round(step_s * 1000, 6)))
    seconds, rest = divmod(millis, 1000)
    return f"{seconds}.{rest:03d}".rstrip("0").rstrip(".")


def _window(match: str, start: datetime | None, end: datetime | None) -> dict[str, str]:
    params = {"match[]": match} if match else {}
    if start is not None:
        params["start"] = f"{start.timestamp():.3f}"
    if end is not None:
        params["end"] = f"{end.timestamp():.3f}"
    return params


def _refusal_body(response: requests.Response) -> tuple[str, str]:
    """`errorType` and `error` of a Prometheus API error body, or the body text cut short."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("error"):
        return str(body.get("errorType") or ""), str(body["error"])
    text = response.text.strip()
    return "", text[:300] + " ..." if len(text) > 300 else text or response.reason or ""


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
