"""An in-memory stand-in for StoreClient: a handful of series and canned answers.

Range queries have data when every selector in them matches a stored series (a rate-like
function needs a series with at least two samples), which is all the dashboard checker
asks of Mimir. `count_over_time(...)` answers with each matched series' sample count.
Exact queries can be given canned answers (or exceptions) in `responses`.

Queries are parsed with promql-parser directly and matched by the few lines below, never
by `scanium_e2e.promql` (the code under test). What the library rejects, the fake rejects
as Mimir would (QueryError, bad_data).
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import promql_parser as pp

from scanium_e2e.clients.query import QueryError, Sample, Series

# Range functions that return nothing for a series with fewer than 2 samples in the range.
RATE_LIKE = frozenset(
    {"rate", "irate", "increase", "delta", "idelta", "deriv", "predict_linear",
     "holt_winters", "double_exponential_smoothing"}
)  # fmt: skip
with contextlib.suppress(ValueError):  # Mimir knows holt_winters; the library may not.
    pp.register_extra_functions(
        [
            pp.Function(
                "holt_winters",
                [pp.ValueType.Matrix, pp.ValueType.Scalar, pp.ValueType.Scalar],
                pp.ValueType.Vector,
            )
        ]
    )


def rejected(query: str, kind: str, error: str) -> QueryError:
    """Mimir's 400 answer to a query it cannot run, as StoreClient raises it."""
    return QueryError(
        status=400, error_type="bad_data", error=error, store="Mimir", kind=kind, query=query
    )


def _parse(query: str, kind: str) -> pp.Expr:
    try:
        return pp.parse(query)
    except ValueError as exc:
        raise rejected(query, kind, f"parse error: {exc}") from None


def _selectors(node: object, samples: int = 1) -> Iterator[tuple[pp.VectorSelector, int]]:
    """Each vector selector under `node`, with the samples a series needs to count."""
    if isinstance(node, pp.VectorSelector):
        yield node, samples
    elif isinstance(node, pp.MatrixSelector):
        yield node.vector_selector, samples
    elif isinstance(node, pp.Call):
        for arg in node.args:
            yield from _selectors(arg, 2 if node.func.name in RATE_LIKE else 1)
    elif isinstance(node, pp.AggregateExpr):
        yield from _selectors(node.param)
        yield from _selectors(node.expr)
    elif isinstance(node, pp.BinaryExpr):
        yield from _selectors(node.lhs)
        yield from _selectors(node.rhs)
    elif isinstance(node, pp.ParenExpr | pp.UnaryExpr | pp.SubqueryExpr):
        yield from _selectors(node.expr)


def _matches(matcher: pp.Matcher, labels: dict[str, str]) -> bool:
    value = labels.get(matcher.name, "")
    if matcher.op == pp.MatchOp.Equal:
        return value == matcher.value
    if matcher.op == pp.MatchOp.NotEqual:
        return value != matcher.value
    found = re.fullmatch(f"(?:{matcher.value})", value, re.DOTALL) is not None
    return found if matcher.op == pp.MatchOp.Re else not found


@dataclass
class FakeSeries:
    """One stored series: labels (with __name__), samples in the window, window presence."""

    labels: dict[str, str]
    samples: int = 10
    in_window: bool = True


def series(name: str, samples: int = 10, in_window: bool = True, **labels: str) -> FakeSeries:
    """`series("up", job="x")` shorthand."""
    return FakeSeries({"__name__": name, **labels}, samples, in_window)


@dataclass
class FakeMimir:
    """Implements the QueryClient protocol over `stored` series."""

    stored: list[FakeSeries]
    responses: dict[str, list[Series] | Exception] = field(default_factory=dict)
    range_queries: list[str] = field(default_factory=list)
    other_queries: list[str] = field(default_factory=list)
    steps: list[float] = field(default_factory=list)

    def _visible(self, windowed: bool) -> list[FakeSeries]:
        return [s for s in self.stored if s.in_window or not windowed]

    def _matching(self, selector: pp.VectorSelector, windowed: bool = True) -> list[FakeSeries]:
        groups = selector.matchers.or_matchers or [selector.matchers.matchers]
        found = []
        for candidate in self._visible(windowed):
            labels = candidate.labels
            if selector.name and labels.get("__name__") != selector.name:
                continue
            if any(all(_matches(m, labels) for m in group) for group in groups):
                found.append(candidate)
        return found

    def _select(self, match: str, windowed: bool) -> list[FakeSeries]:
        if not match:
            return self._visible(windowed)
        selector = _parse(match, "selector")
        if not isinstance(selector, pp.VectorSelector):
            raise rejected(match, "selector", "not a series selector")
        return self._matching(selector, windowed)

    def instant(self, query: str, at: datetime | None = None) -> list[Sample]:
        self.other_queries.append(f"instant {query}")
        canned = self.responses.get(query)
        if isinstance(canned, Exception):
            raise canned
        if canned is not None:
            return [Sample(s.labels, s.points[-1][1]) for s in canned if s.points]
        found = self._select(query, windowed=True)
        return [Sample(dict(s.labels), float(s.samples)) for s in found]

    def range(self, query: str, start: datetime, end: datetime, step_s: float) -> list[Series]:
        self.range_queries.append(query)
        self.steps.append(step_s)
        canned = self.responses.get(query)
        if isinstance(canned, Exception):
            raise canned
        if canned is not None:
            return canned
        if "$" in query:
            raise rejected(query, "range query", "parse error: unexpected character: '$'")
        found = list(_selectors(_parse(query, "range query")))
        point = end.timestamp()
        if query.startswith("count_over_time("):
            return [
                Series(dict(s.labels), [(point, float(s.samples))])
                for s in self._matching(found[0][0])
            ]
        for selector, needed in found:
            if not [s for s in self._matching(selector) if s.samples >= needed]:
                return []
        return [Series({}, [(point, 1.0)])] if found else [Series({}, [(point, math.nan)])]

    def series(self, match: str, start: datetime, end: datetime) -> list[dict[str, str]]:
        self.other_queries.append(f"series {match}")
        return [dict(s.labels) for s in self._select(match, windowed=True)]

    def label_values(
        self,
        label: str,
        match: str = "",
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[str]:
        self.other_queries.append(f"label_values {label} {match}")
        found = self._select(match, windowed=start is not None)
        return sorted({s.labels[label] for s in found if label in s.labels})

    def label_names(
        self, match: str = "", start: datetime | None = None, end: datetime | None = None
    ) -> list[str]:
        self.other_queries.append(f"label_names {match}")
        found = self._select(match, windowed=start is not None)
        return sorted({name for s in found for name in s.labels})

    def metric_names(self, start: datetime | None = None, end: datetime | None = None) -> list[str]:
        return self.label_values("__name__", start=start, end=end)


def contract_series() -> list[FakeSeries]:
    """Series a Scanium backend exposes after some openai and claude traffic."""
    out: list[FakeSeries] = []
    for provider in ("openai", "claude"):
        for status in ("success", "error"):
            for cache_hit in ("true", "false"):
                out.append(
                    series(
                        "scanium_assistant_requests_total",
                        provider=provider,
                        status=status,
                        cache_hit=cache_hit,
                    )
                )
            for suffix in ("_bucket", "_sum", "_count"):
                extra = {"le": "250"} if suffix == "_bucket" else {}
                labels = {"provider": provider, "status": status, **extra}
                out.append(
                    FakeSeries(
                        {"__name__": f"scanium_assistant_request_latency_ms{suffix}", **labels}
                    )
                )
        for token_type in ("input", "output", "total"):
            for suffix in ("_bucket", "_sum", "_count"):
                extra = {"le": "100"} if suffix == "_bucket" else {}
                labels = {"provider": provider, "token_type": token_type, **extra}
                out.append(
                    FakeSeries({"__name__": f"scanium_assistant_tokens_used{suffix}", **labels})
                )
    out.append(
        series(
            "scanium_assistant_errors_total",
            provider="openai",
            error_type="provider_error",
            reason_code="upstream_500",
        )
    )
    # What the backend pushes over OTLP, as Alloy's exporter stores it.
    for limit_type in ("requests", "tokens"):
        out.append(
            series(
                f"openai_rate_limit_{limit_type}_remaining_ratio",
                model="gpt-4o-mini",
                limit_type=limit_type,
            )
        )
    for status_code in ("STATUS_CODE_OK", "STATUS_CODE_ERROR"):
        out.append(series("calls_total", span_name="POST /v1/assist/chat", status_code=status_code))
    return out
