"""PromQL read by a real parser: the selectors, matchers and groupings of an expression.

`analyse` parses with the `promql-parser` package (a port of Prometheus' own parser, so
syntax and types are checked: `this is not promql` or `sum(x[5m])` is an error) and walks
its AST into the small model below: each vector selector with its matchers, range, and
the calls, aggregations and parentheses around it, and each `by`/`without` grouping. That
is enough to explain an empty result pint-style (which metric, label or value is missing)
and to list the metrics a dashboard uses.

Two gaps of the library are bridged here: raw (backquoted) strings holding a backslash
are re-quoted as double-quoted strings, and functions Prometheus still accepts but the
library lacks (`holt_winters`) are registered with it.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import lru_cache

import promql_parser as pp

AGGREGATIONS = frozenset(
    {
        "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
        "bottomk", "topk", "quantile", "limitk", "limit_ratio",
    }
)  # fmt: skip
# Functions over a range vector that return nothing for a series with fewer than 2 samples.
TWO_SAMPLE_FUNCTIONS = frozenset(
    {"rate", "irate", "increase", "delta", "idelta", "deriv", "predict_linear",
     "holt_winters", "double_exponential_smoothing"}
)  # fmt: skip
# Functions whose first string argument names a label they create.
LABEL_CREATING_FUNCTIONS = frozenset({"label_replace", "label_join", "count_values"})
# promql_parser.MatchOp is not hashable: pairs, compared with ==.
_MATCH_OPS = (
    (pp.MatchOp.Equal, "="), (pp.MatchOp.NotEqual, "!="),
    (pp.MatchOp.Re, "=~"), (pp.MatchOp.NotRe, "!~"),
)  # fmt: skip
_LEGACY_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
# Only to find backquoted strings (a backquote inside "..." or a comment is not one).
_STRING_OR_COMMENT = re.compile(
    r""" "(?:[^"\\\n]|\\.)*" | '(?:[^'\\\n]|\\.)*' | `[^`]*` | \#[^\n]* """, re.VERBOSE
)
_DURATION_PART = re.compile(r"(\d+)(ms|[smhdwy])")
_DURATION_UNITS = {
    "ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000,
}  # fmt: skip
# Functions Prometheus (2.x; Mimir) accepts that promql-parser does not know.
_EXTRA_FUNCTIONS = (
    pp.Function(
        "holt_winters",
        [pp.ValueType.Matrix, pp.ValueType.Scalar, pp.ValueType.Scalar],
        pp.ValueType.Vector,
    ),
)


def _register_extra_functions() -> None:
    for function in _EXTRA_FUNCTIONS:
        # ValueError: a later release of the library has it built in.
        with contextlib.suppress(ValueError):
            pp.register_extra_functions([function])


_register_extra_functions()


class PromQLSyntaxError(ValueError):
    """Not valid PromQL (or a regex, or a duration); `expr` is the text that was rejected."""

    def __init__(self, message: str, expr: str = "") -> None:
        super().__init__(message)
        self.expr = expr


@dataclass(frozen=True)
class Matcher:
    """A label matcher such as `provider=~"openai|claude"`."""

    name: str
    op: str
    value: str

    def matches(self, value: str) -> bool:
        """Whether a label value ("" when the series lacks the label) satisfies the matcher.

        Regexes are fully anchored, as in Prometheus; raises PromQLSyntaxError for a regex
        Python cannot compile.
        """
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        found = anchored_regex(self.value).fullmatch(value) is not None
        return found if self.op == "=~" else not found

    def promql(self) -> str:
        """The matcher as PromQL text."""
        return f"{self.name}{self.op}{quote(self.value)}"


@dataclass(frozen=True)
class Scope:
    """A parenthesis the selector sits in: a call, an aggregation, or plain grouping."""

    id: int
    function: str
    mode: str = ""
    labels: tuple[str, ...] = ()
    created_labels: tuple[str, ...] = ()

    @property
    def is_aggregation(self) -> bool:
        """True for sum/avg/count/... (they drop labels not kept by `by`)."""
        return self.function.lower() in AGGREGATIONS


@dataclass(frozen=True)
class Selector:
    """A vector selector: `metric{label="value"}[5m]`, and the calls around it.

    `text` is the selector written back as PromQL, without range, offset or `@` (the
    parser keeps no source positions): `metric{a="1", b=~"x|y"}`.
    """

    metric: str
    matchers: tuple[Matcher, ...]
    text: str
    range_text: str = ""
    range_s: float | None = None
    scopes: tuple[Scope, ...] = ()

    @property
    def name(self) -> str:
        """The metric name, from the bare name or an `__name__="..."` matcher ("" if none)."""
        if self.metric:
            return self.metric
        for matcher in self.matchers:
            if matcher.name == "__name__" and matcher.op == "=":
                return matcher.value
        return ""

    @property
    def label_matchers(self) -> tuple[Matcher, ...]:
        """The matchers on labels other than the metric name."""
        return tuple(m for m in self.matchers if m.name != "__name__")

    @property
    def name_matchers(self) -> tuple[Matcher, ...]:
        """The matchers on `__name__`."""
        return tuple(m for m in self.matchers if m.name == "__name__")

    @property
    def functions(self) -> tuple[str, ...]:
        """Names of the enclosing calls and aggregations, innermost first."""
        return tuple(scope.function for scope in self.scopes if scope.function)

    @property
    def two_sample_function(self) -> str:
        """The rate-like function applied to this range selector, or ""."""
        if self.range_s is None or not self.scopes:
            return ""
        innermost = self.scopes[0].function
        return innermost if innermost.lower() in TWO_SAMPLE_FUNCTIONS else ""

    def promql(self, *, only_name: bool = False, separator: str = ",") -> str:
        """The selector as PromQL (no range); with `only_name`, without label matchers."""
        matchers = list(self.name_matchers if only_name else self.matchers)
        metric = self.metric
        if metric and not _LEGACY_NAME.fullmatch(metric):
            # A UTF-8 name (Prometheus 3) only works as a matcher inside the braces.
            matchers.insert(0, Matcher("__name__", "=", metric))
            metric = ""
        inner = separator.join(m.promql() for m in matchers)
        if metric:
            return f"{metric}{{{inner}}}" if inner else metric
        return f"{{{inner}}}" if inner else ""


@dataclass(frozen=True)
class Grouping:
    """A `by (...)` or `without (...)` clause and the selectors the aggregation covers."""

    operator: str
    mode: str
    labels: tuple[str, ...]
    scope_id: int
    selectors: tuple[Selector, ...] = ()


@dataclass(frozen=True)
class Analysis:
    """What `analyse` found in an expression."""

    selectors: tuple[Selector, ...]
    groupings: tuple[Grouping, ...]

    @property
    def metric_names(self) -> frozenset[str]:
        """Every metric name the expression selects by name."""
        return frozenset(s.name for s in self.selectors if s.name)


def _parse(expr: str) -> pp.Expr:
    """The library's AST of `expr`; PromQLSyntaxError when it is not PromQL."""
    try:
        return pp.parse(expr)
    except ValueError as exc:
        requoted = _requote_raw_strings(expr)
        if requoted != expr:
            with contextlib.suppress(ValueError):
                return pp.parse(requoted)
        raise PromQLSyntaxError(f"invalid PromQL: {exc}", expr) from None


def _requote_raw_strings(expr: str) -> str:
    """`expr` with each backquoted string holding a backslash written double-quoted.

    promql-parser decodes escapes in raw strings too (`\\.` is "unknown escape
    sequence"), where Prometheus keeps them as written.
    """

    def requote(match: re.Match[str]) -> str:
        text = match.group()
        return quote(text[1:-1]) if text.startswith("`") and "\\" in text else text

    return _STRING_OR_COMMENT.sub(requote, expr)


def unquote(literal: str) -> str:
    """The value of a PromQL string literal (Go escapes; backquotes are raw)."""
    node = _parse(literal)
    if not isinstance(node, pp.StringLiteral):
        raise PromQLSyntaxError(f"not a string literal: {literal}", literal)
    return node.val


def quote(value: str) -> str:
    """`value` as a double-quoted PromQL string."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


@lru_cache(maxsize=512)
def anchored_regex(pattern: str) -> re.Pattern[str]:
    """Compile a Prometheus (RE2) regex anchored at both ends, as label matchers are."""
    try:
        return re.compile(f"(?:{pattern})", re.DOTALL)
    except re.error as exc:
        raise PromQLSyntaxError(f"invalid regex {pattern!r}: {exc}", pattern) from None


def parse_duration(text: str) -> float:
    """Seconds in a PromQL duration (`1h30m`, `500ms`, or a plain number of seconds)."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise PromQLSyntaxError(f"{text!r} is not a duration (use e.g. 15s, 5m, 1h30m)", text)
    return sum(int(number) * _DURATION_UNITS[unit] for number, unit in parts)


def format_duration(seconds: float) -> str:
    """Compact PromQL duration: 90 -> `1m30s`, 0.5 -> `500ms`, 3600 -> `1h`."""
    millis = round(seconds * 1000)
    if millis <= 0:
        return "0s"
    out = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        count, millis = divmod(millis, size)
        if count:
            out.append(f"{count}{unit}")
    if millis:
        out.append(f"{millis}ms")
    return "".join(out)


def _match_op(op: pp.MatchOp) -> str:
    return next(text for known, text in _MATCH_OPS if known == op)


def analyse(expr: str) -> Analysis:
    """The selectors and groupings of a PromQL expression.

    Raises PromQLSyntaxError (carrying `expr`) for anything Prometheus' parser rejects:
    bad syntax, unbalanced parentheses or braces, unterminated strings, malformed matchers,
    unknown functions, or wrong argument types (`sum(x[5m])`).
    """
    tree = _parse(expr)
    walker = _Walker()
    try:
        walker.visit(tree, ())
    except RecursionError:
        raise PromQLSyntaxError("expression nested too deeply to read", expr) from None
    return walker.result()


def selectors(expr: str) -> tuple[Selector, ...]:
    """The vector selectors of `expr`, in order of appearance."""
    return analyse(expr).selectors


def metric_names(expr: str) -> frozenset[str]:
    """The metric names `expr` selects by name."""
    return analyse(expr).metric_names


class _Walker:
    """Depth-first over the AST; scopes are numbered in the order their `(` appears."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []
        self.found: list[Selector] = []

    def scope(self, function: str, mode: str = "", labels: tuple[str, ...] = (),
              created: tuple[str, ...] = ()) -> Scope:  # fmt: skip
        scope = Scope(len(self.scopes), function, mode, labels, created)
        self.scopes.append(scope)
        return scope

    def visit(self, node: object, around: tuple[Scope, ...]) -> None:
        """Record the selectors under `node`; `around` is innermost first."""
        if isinstance(node, pp.VectorSelector):
            self.selector(node, None, around)
        elif isinstance(node, pp.MatrixSelector):
            self.selector(node.vector_selector, node.range, around)
        elif isinstance(node, pp.Call):
            name = node.func.name
            strings = [a.val for a in node.args if isinstance(a, pp.StringLiteral)]
            created = tuple(strings[:1]) if name in LABEL_CREATING_FUNCTIONS else ()
            inner = (self.scope(name, created=created), *around)
            for arg in node.args:
                self.visit(arg, inner)
        elif isinstance(node, pp.AggregateExpr):
            self.aggregation(node, around)
        elif isinstance(node, pp.ParenExpr):
            self.visit(node.expr, (self.scope(""), *around))
        elif isinstance(node, pp.BinaryExpr):
            self.visit(node.lhs, around)
            self.visit(node.rhs, around)
        elif isinstance(node, pp.UnaryExpr | pp.SubqueryExpr):
            self.visit(node.expr, around)
        # Number and string literals select nothing.

    def aggregation(self, node: pp.AggregateExpr, around: tuple[Scope, ...]) -> None:
        op = str(node.op)
        mode = ""
        labels: tuple[str, ...] = ()
        if node.modifier is not None:
            mode = "by" if node.modifier.type == pp.AggModifierType.By else "without"
            labels = tuple(node.modifier.labels)
        param = node.param
        created: tuple[str, ...] = ()
        if op.lower() in LABEL_CREATING_FUNCTIONS and isinstance(param, pp.StringLiteral):
            created = (param.val,)
        inner = (self.scope(op, mode, labels, created), *around)
        if param is not None:
            self.visit(param, inner)
        self.visit(node.expr, inner)

    def selector(
        self, node: pp.VectorSelector, range_: timedelta | None, around: tuple[Scope, ...]
    ) -> None:
        range_s = range_.total_seconds() if range_ is not None else None
        # `{a="1" or b="2"}` (Prometheus 3) selects the union: one Selector per branch.
        groups = node.matchers.or_matchers or [node.matchers.matchers]
        for group in groups:
            matchers = tuple(Matcher(m.name, _match_op(m.op), m.value) for m in group)
            selector = Selector(
                metric=node.name or "",
                matchers=matchers,
                text="",
                range_text=format_duration(range_s) if range_s is not None else "",
                range_s=range_s,
                scopes=around,
            )
            self.found.append(replace(selector, text=selector.promql(separator=", ")))

    def result(self) -> Analysis:
        groupings = tuple(
            Grouping(
                operator=scope.function,
                mode=scope.mode,
                labels=scope.labels,
                scope_id=scope.id,
                selectors=tuple(s for s in self.found if any(c.id == scope.id for c in s.scopes)),
            )
            for scope in self.scopes
            if scope.mode
        )
        return Analysis(tuple(self.found), groupings)


def labels_reaching(selector: Selector, scope_id: int, metric_labels: set[str]) -> set[str]:
    """The labels a selector's series still carry when they reach the scope `scope_id`.

    Inner aggregations keep only their `by` labels (or drop their `without` labels);
    label_replace/label_join/count_values add the label they create.
    """
    available = set(metric_labels)
    for scope in selector.scopes:
        if scope.id == scope_id:
            break
        if scope.is_aggregation:
            if scope.mode == "by":
                available &= set(scope.labels)
            elif scope.mode == "without":
                available -= set(scope.labels)
            else:
                available = set()
        available |= set(scope.created_labels)
    return available
