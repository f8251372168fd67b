"""A small PromQL reader: the selectors, matchers and groupings of an expression.

Not a full parser. It tokenises PromQL (strings, durations, comments, ranges) and tracks
which function or aggregation each parenthesis belongs to. That is enough to explain an
empty result pint-style (which metric, label or value is missing) and to list the metrics
a dashboard uses, without being fooled by braces inside strings or by nested calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

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
_BINARY_KEYWORDS = frozenset({"and", "or", "unless", "bool", "atan2"})
_MATCHING_KEYWORDS = frozenset({"on", "ignoring", "group_left", "group_right"})
_NUMBER_WORDS = frozenset({"inf", "nan"})
_MATCH_OPS = ("=", "!=", "=~", "!~")
_LEGACY_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
    | (?P<comment>\#[^\n]*)
    | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`)
    | (?P<range>\[[^\]\[]*\])
    | (?P<duration>(?:\d+(?:ms|[smhdwy]))+(?![\w:]))
    | (?P<number>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
    | (?P<op>==|!=|=~|!~|>=|<=|[=<>+\-*/%^@])
    | (?P<punct>[{}(),])
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_DURATION_PART = re.compile(r"(\d+)(ms|[smhdwy])")
_DURATION_UNITS = {
    "ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000,
}  # fmt: skip
_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", '"': '"', "'": "'",
}  # fmt: skip


class PromQLSyntaxError(ValueError):
    """The expression is not PromQL this reader can follow (unbalanced, unterminated...)."""


@dataclass(frozen=True)
class Token:
    """One lexical token; `value` is the decoded text of a string literal."""

    kind: str
    text: str
    start: int
    end: int
    value: str = ""


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
    """A vector selector: `metric{label="value"}[5m]`, and the calls around it."""

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

    def promql(self, *, only_name: bool = False) -> str:
        """The selector as PromQL (no range); with `only_name`, without label matchers."""
        matchers = list(self.name_matchers if only_name else self.matchers)
        metric = self.metric
        if metric and not _LEGACY_NAME.fullmatch(metric):
            # A UTF-8 name (Prometheus 3) only works as a matcher inside the braces.
            matchers.insert(0, Matcher("__name__", "=", metric))
            metric = ""
        inner = ",".join(m.promql() for m in matchers)
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


@dataclass
class _Frame:
    id: int
    function: str
    mode: str = ""
    labels: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    strings_seen: int = 0

    def freeze(self) -> Scope:
        return Scope(self.id, self.function, self.mode, tuple(self.labels), tuple(self.created))


def tokenize(expr: str) -> list[Token]:
    """The tokens of `expr`, without whitespace and comments."""
    tokens: list[Token] = []
    for match in _TOKEN.finditer(expr):
        kind = match.lastgroup or "other"
        text = match.group()
        if kind in ("ws", "comment"):
            continue
        if kind == "other" and text in "\"'`":
            raise PromQLSyntaxError(f"unterminated string starting at offset {match.start()}")
        if kind == "other" and text == "[":
            raise PromQLSyntaxError(f"unterminated range starting at offset {match.start()}")
        value = unquote(text) if kind == "string" else ""
        tokens.append(Token(kind, text, match.start(), match.end(), value))
    return tokens


def unquote(literal: str) -> str:
    """The value of a PromQL string literal (Go escapes; backquotes are raw)."""
    quote_char, body = literal[0], literal[1:-1]
    if quote_char == "`":
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\" or i + 1 >= len(body):
            out.append(char)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[nxt]
            digits = body[i + 2 : i + 2 + width]
            try:
                out.append(chr(int(digits, 16)))
                i += 2 + width
            except ValueError:
                out.append(body[i : i + 2])
                i += 2
        elif nxt in "01234567" and re.fullmatch(r"[0-7]{3}", body[i + 1 : i + 4]):
            out.append(chr(int(body[i + 1 : i + 4], 8)))
            i += 4
        else:
            # Prometheus rejects unknown escapes; keep them so the regex still reads as
            # written and Mimir reports the error itself.
            out.append(body[i : i + 2])
            i += 2
    return "".join(out)


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
        raise PromQLSyntaxError(f"invalid regex {pattern!r}: {exc}") from None


def parse_duration(text: str) -> float:
    """Seconds in a PromQL duration (`1h30m`, `500ms`, or a plain number of seconds)."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise PromQLSyntaxError(f"{text!r} is not a duration (use e.g. 15s, 5m, 1h30m)")
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


def analyse(expr: str) -> Analysis:
    """The selectors and groupings of a PromQL expression.

    Raises PromQLSyntaxError for unbalanced parentheses or braces, unterminated strings,
    or a malformed label matcher.
    """
    return _Reader(expr).read()


def selectors(expr: str) -> tuple[Selector, ...]:
    """The vector selectors of `expr`, in order of appearance."""
    return analyse(expr).selectors


def metric_names(expr: str) -> frozenset[str]:
    """The metric names `expr` selects by name."""
    return analyse(expr).metric_names


class _Reader:
    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.tokens = tokenize(expr)
        self.pos = 0
        self.stack: list[_Frame] = []
        self.frames: list[_Frame] = []
        self.found: list[tuple[str, tuple[Matcher, ...], str, str, list[_Frame]]] = []
        self.pending_call = ""
        self.pending_grouping: tuple[str, list[str]] | None = None
        self.last_closed: _Frame | None = None

    def peek(self, offset: int = 0) -> Token | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def is_punct(self, token: Token | None, text: str) -> bool:
        return token is not None and token.kind == "punct" and token.text == text

    def read(self) -> Analysis:
        while self.pos < len(self.tokens):
            token = self.tokens[self.pos]
            closed_just_before = self.last_closed
            self.last_closed = None
            if token.kind == "ident":
                self.ident(token, closed_just_before)
            elif self.is_punct(token, "{"):
                self.selector("", token.start)
            elif self.is_punct(token, "("):
                self.open()
            elif self.is_punct(token, ")"):
                self.close(token)
            elif token.kind == "string":
                self.string(token)
                self.pos += 1
            else:
                self.pos += 1
        if self.stack:
            raise PromQLSyntaxError("unclosed parenthesis")
        return self.result()

    def ident(self, token: Token, closed_just_before: _Frame | None) -> None:
        word = token.text.lower()
        nxt = self.peek(1)
        if word in ("by", "without") and self.is_punct(nxt, "("):
            self.pos += 1
            labels = self.label_list()
            if self.pending_call:
                self.pending_grouping = (word, labels)
            elif closed_just_before is not None and closed_just_before.function:
                closed_just_before.mode, closed_just_before.labels = word, labels
            return
        if word in _MATCHING_KEYWORDS:
            self.pos += 1
            if self.is_punct(self.peek(), "("):
                self.label_list()
            return
        if word in _BINARY_KEYWORDS or word in _NUMBER_WORDS:
            self.pos += 1
            return
        if word == "offset":
            self.pos += 1
            return
        if self.is_punct(nxt, "("):
            self.pending_call = token.text
            self.pos += 1
            return
        if word in AGGREGATIONS and nxt is not None and nxt.text.lower() in ("by", "without"):
            self.pending_call = token.text
            self.pos += 1
            return
        self.pos += 1
        self.selector(token.text, token.start)

    def open(self) -> None:
        frame = _Frame(len(self.frames), self.pending_call)
        if self.pending_grouping is not None:
            frame.mode, frame.labels = self.pending_grouping
        self.pending_call, self.pending_grouping = "", None
        self.frames.append(frame)
        self.stack.append(frame)
        self.pos += 1

    def close(self, token: Token) -> None:
        if not self.stack:
            raise PromQLSyntaxError(f"unbalanced ')' at offset {token.start}")
        self.last_closed = self.stack.pop()
        self.pos += 1

    def string(self, token: Token) -> None:
        if not self.stack:
            return
        frame = self.stack[-1]
        frame.strings_seen += 1
        if frame.function.lower() in LABEL_CREATING_FUNCTIONS and frame.strings_seen == 1:
            frame.created.append(token.value)

    def label_list(self) -> list[str]:
        """Read `( a, b, "c" )` starting at the `(`; returns the names."""
        start = self.peek()
        self.pos += 1
        labels: list[str] = []
        while True:
            token = self.peek()
            if token is None:
                offset = start.start if start else 0
                raise PromQLSyntaxError(f"unclosed label list at offset {offset}")
            self.pos += 1
            if self.is_punct(token, ")"):
                return labels
            if token.kind == "ident":
                labels.append(token.text)
            elif token.kind == "string":
                labels.append(token.value)
            elif not self.is_punct(token, ","):
                raise PromQLSyntaxError(
                    f"unexpected {token.text!r} in a label list at offset {token.start}"
                )

    def selector(self, metric: str, start: int) -> None:
        matchers: tuple[Matcher, ...] = ()
        end = self.tokens[self.pos - 1].end if metric else start
        if self.is_punct(self.peek(), "{"):
            matchers, end, quoted_name = self.matchers()
            metric = metric or quoted_name
        range_text = ""
        nxt = self.peek()
        if nxt is not None and nxt.kind == "range":
            range_text = nxt.text[1:-1].strip()
            self.pos += 1
        if metric or matchers:
            self.found.append(
                (metric, matchers, self.expr[start:end], range_text, list(self.stack))
            )

    def matchers(self) -> tuple[tuple[Matcher, ...], int, str]:
        open_brace = self.peek()
        assert open_brace is not None
        self.pos += 1
        out: list[Matcher] = []
        quoted_name = ""
        while True:
            token = self.peek()
            if token is None:
                raise PromQLSyntaxError(f"unclosed '{{' at offset {open_brace.start}")
            if self.is_punct(token, "}"):
                self.pos += 1
                return tuple(out), token.end, quoted_name
            if self.is_punct(token, ","):
                self.pos += 1
                continue
            op = self.peek(1)
            if token.kind == "string" and (self.is_punct(op, ",") or self.is_punct(op, "}")):
                quoted_name = token.value  # Prometheus 3: {"metric.name", label="x"}
                self.pos += 1
                continue
            value = self.peek(2)
            if (
                token.kind not in ("ident", "string")
                or op is None
                or op.text not in _MATCH_OPS
                or value is None
                or value.kind != "string"
            ):
                raise PromQLSyntaxError(
                    f"malformed label matcher at offset {token.start}: "
                    f"{self.expr[token.start : token.start + 40]!r}"
                )
            name = token.text if token.kind == "ident" else token.value
            out.append(Matcher(name, op.text, value.value))
            self.pos += 3

    def result(self) -> Analysis:
        scopes = {frame.id: frame.freeze() for frame in self.frames}
        found: list[Selector] = []
        for metric, matchers, text, range_text, stack in self.found:
            range_s: float | None = None
            if range_text and ":" not in range_text:
                try:
                    range_s = parse_duration(range_text)
                except PromQLSyntaxError:
                    range_s = None
            found.append(
                Selector(
                    metric=metric,
                    matchers=matchers,
                    text=text,
                    range_text=range_text if range_s is not None else "",
                    range_s=range_s,
                    scopes=tuple(scopes[frame.id] for frame in reversed(stack)),
                )
            )
        groupings = tuple(
            Grouping(
                operator=frame.function,
                mode=frame.mode,
                labels=tuple(frame.labels),
                scope_id=frame.id,
                selectors=tuple(
                    s for s in found if any(scope.id == frame.id for scope in s.scopes)
                ),
            )
            for frame in self.frames
            if frame.mode
        )
        return Analysis(tuple(found), groupings)


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
