"""Why a rule holds where it should not: the classic traps, said in a sentence.

`expr or vector(0)` adds a label-less series whenever the left side has no series *with
the same labels*, which is always when the left side's series carry labels: the 0 is
there on a healthy pipeline too, and a `< 1` condition holds on it. (`or on() vector(0)`
adds it only when the left side is empty.) The expression is read with promql-parser,
as everywhere else in the suite.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import promql_parser as pp

from scanium_e2e.alerts.model import ActiveSeries
from scanium_e2e.clients.query import QueryError
from scanium_e2e.polling import TransientError
from scanium_e2e.verdict.empty_query import QueryClient

_COMPARISONS = ("<", ">", "<=", ">=", "==", "!=")


@dataclass(frozen=True)
class VectorFallback:
    """An `lhs or vector(N)` that adds its constant beside labelled series."""

    lhs: str
    value: float


def unwrap(node: object) -> object:
    """The expression inside any parentheses around `node`."""
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node


def _walk(node: object) -> Iterator[object]:
    yield node
    for attribute in ("lhs", "rhs", "expr", "param", "vector_selector"):
        child = getattr(node, attribute, None)
        if child is not None and not isinstance(child, str | int | float):
            yield from _walk(child)
    for argument in getattr(node, "args", None) or []:
        yield from _walk(argument)


def _safe_matching(node: pp.BinaryExpr) -> bool:
    """`or on() vector(0)`: the constant joins every left series, so it is added only when
    the left side is empty (the idiom that works)."""
    modifier = node.modifier
    matching = getattr(modifier, "matching", None) if modifier is not None else None
    return (
        matching is not None
        and str(matching.type).endswith("Include")
        and not list(matching.labels)
    )


def vector_fallbacks(query: str) -> list[VectorFallback]:
    """Every `lhs or vector(N)` in `query` that adds N beside labelled series."""
    try:
        root = pp.parse(query)
    except (ValueError, RuntimeError):
        return []
    found = []
    for node in _walk(root):
        if not isinstance(node, pp.BinaryExpr) or str(node.op) != "or":
            continue
        rhs = unwrap(node.rhs)
        if (
            isinstance(rhs, pp.Call)
            and rhs.func.name == "vector"
            and rhs.args
            and isinstance(unwrap(rhs.args[0]), pp.NumberLiteral)
            and not _safe_matching(node)
        ):
            value = float(unwrap(rhs.args[0]).val)  # type: ignore[attr-defined]
            found.append(VectorFallback(" ".join(str(node.lhs).split()), value))
    return found


def comparison_of(query: str) -> str:
    """`< 1` when the query's outermost operation compares with a number, else ""."""
    try:
        root = unwrap(pp.parse(query))
    except (ValueError, RuntimeError):
        return ""
    if isinstance(root, pp.BinaryExpr) and str(root.op) in _COMPARISONS:
        rhs = unwrap(root.rhs)
        if isinstance(rhs, pp.NumberLiteral):
            return f"{root.op} {rhs.val:g}"
    return ""


def _label_less(series: ActiveSeries, rule_labels: Mapping[str, str]) -> bool:
    return all(rule_labels.get(k) == v for k, v in series.labels.items())


def explain_fallback(
    client: QueryClient | None,
    query: str,
    series: Sequence[ActiveSeries],
    condition: str,
    rule_labels: Mapping[str, str],
    *,
    match_value: bool = True,
) -> str:
    """`; a label-less 0 series from `vector(0)` makes `< 1` true even while `up` is 1`,
    or "" when no active series comes from a vector() fallback. `match_value`: the
    series' value is the query's (Prometheus alerts); a Grafana instance's is its
    condition's (1), so only its labels say where it comes from."""
    for fallback in vector_fallbacks(query):
        if not any(
            _label_less(s, rule_labels) and (s.value == fallback.value or not match_value)
            for s in series
        ):
            continue
        sentence = (
            f"; a label-less {fallback.value:g} series from `vector({fallback.value:g})` makes "
            f"`{condition or 'the condition'}` true"
        )
        values = _values_of(client, fallback.lhs)
        if values:
            sentence += f" even while `{fallback.lhs}` is {values}"
        return sentence + " (use `or on() vector(0)`, or alert on absent())"
    return ""


def _values_of(client: QueryClient | None, expr: str) -> str:
    if client is None:
        return ""
    try:
        samples = client.instant(expr)
    except (QueryError, TransientError):
        return ""
    values = sorted({f"{s.value:g}" for s in samples})
    return " and ".join(values)
