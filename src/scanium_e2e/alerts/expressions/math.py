"""The `math` expression: free-form formulas over refIds (`$A / $B * 100 > 5`).

Parsed with Lark from the grammar in math.lark (beside this module), then evaluated over
the other queries' results as Grafana does:
- number OP number is a number, number OP series applies to each point, series OP series
  applies at each timestamp both have;
- constants broadcast to every item;
- between two sets, items join when their labels are equal, one's labels are a subset of
  the other's (a label-less item joins anything), or both sets hold one item; the result
  carries the larger label set; items that join nothing are dropped;
- comparisons and logic give 1 or 0 (a NaN compares false, except `!=`); a null in an
  operation gives null; division by zero gives an infinity or NaN, as in Go;
- a variable whose query returned no data makes the whole expression no data.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import LarkError

from scanium_e2e.alerts.expressions.values import (
    NO_DATA,
    ExpressionError,
    Item,
    Number,
    Results,
    Series,
    Unsupported,
    Value,
)

GRAMMAR = Path(__file__).with_name("math.lark")


@dataclass(frozen=True)
class Scalar:
    """A constant (or a function of constants): no labels, joins every item."""

    value: Value


Operand = Scalar | tuple[Item, ...]


class _NoData(Exception):
    """A referenced refId returned no data: the whole expression is no data."""


class MathSyntaxError(ExpressionError):
    """The expression is not in the math grammar."""


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr")


@lru_cache(maxsize=256)
def parse_math(expression: str) -> Tree[Token]:
    """The parse tree of a math expression; MathSyntaxError saying where it stops."""
    try:
        return _parser().parse(expression)
    except LarkError as exc:
        raise MathSyntaxError(f"math expression `{expression}` does not parse: {exc}") from None


def variables(expression: str) -> list[str]:
    """The refIds an expression reads (`$A`, `${A b}`), in order of first use."""
    found: list[str] = []
    for token in parse_math(expression).scan_values(lambda v: isinstance(v, Token)):
        if token.type in ("VAR", "BRACED_VAR"):
            name = _var_name(token)
            if name not in found:
                found.append(name)
    return found


def _var_name(token: Token) -> str:
    text = str(token)
    return text[2:-1].strip() if text.startswith("${") else text[1:]


def evaluate_math(expression: str, inputs: Mapping[str, Results]) -> Results:
    """The math expression over the results of the refIds it reads."""
    tree = parse_math(expression)
    try:
        result = _Evaluator(inputs).eval(tree)
    except _NoData:
        return NO_DATA
    if isinstance(result, Scalar):
        return Results((Number({}, result.value),))
    return Results(result)


def _number(text: str) -> float:
    lowered = text.lower()
    if lowered.startswith("0x"):
        return float(int(lowered, 16))
    if len(text) > 1 and text.startswith("0") and text.isdigit():
        return float(int(text, 8))
    return float(text)


def _go_div(x: float, y: float) -> float:
    if y == 0:
        return (
            math.nan
            if x == 0 or math.isnan(x)
            else math.copysign(math.inf, x) * (math.copysign(1.0, y))
        )
    return x / y


def _go_mod(x: float, y: float) -> float:
    return math.nan if y == 0 else math.fmod(x, y)


def _go_pow(x: float, y: float) -> float:
    try:
        return math.pow(x, y)
    except OverflowError:
        return math.inf
    except ValueError:
        return math.nan


def _truth(value: float) -> bool:
    return value != 0  # NaN is true, as in Go


_BINARY: Mapping[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": _go_div,
    "%": _go_mod,
    "**": _go_pow,
    "==": lambda x, y: float(x == y),
    "!=": lambda x, y: float(x != y),
    "<": lambda x, y: float(x < y),
    ">": lambda x, y: float(x > y),
    "<=": lambda x, y: float(x <= y),
    ">=": lambda x, y: float(x >= y),
    "&&": lambda x, y: float(_truth(x) and _truth(y)),
    "||": lambda x, y: float(_truth(x) or _truth(y)),
}


def _apply2(op: str, x: Value, y: Value) -> Value:
    if x is None or y is None:
        return None
    try:
        return _BINARY[op](x, y)
    except OverflowError:
        return math.inf


def _round(value: float) -> float:
    """Go's math.Round: half away from zero."""
    if not math.isfinite(value):
        return value
    return math.copysign(math.floor(abs(value) + 0.5), value)


def _log(value: float) -> float:
    if value < 0 or math.isnan(value):
        return math.nan
    return -math.inf if value == 0 else math.log(value)


_ON_VALUES: Mapping[str, Callable[[float], float]] = {
    "abs": abs,
    "ceil": lambda v: float(math.ceil(v)) if math.isfinite(v) else v,
    "floor": lambda v: float(math.floor(v)) if math.isfinite(v) else v,
    "round": _round,
    "log": _log,
}
# These answer for null too.
_TESTS: Mapping[str, Callable[[Value], float]] = {
    "is_inf": lambda v: float(v is not None and math.isinf(v)),
    "is_nan": lambda v: float(v is not None and math.isnan(v)),
    "is_null": lambda v: float(v is None),
    "is_number": lambda v: float(v is not None and math.isfinite(v)),
}
_CONSTANTS: Mapping[str, Value] = {
    "inf": math.inf,
    "infn": -math.inf,
    "nan": math.nan,
    "null": None,
}


def _map(operand: Operand, fn: Callable[[Value], Value]) -> Operand:
    if isinstance(operand, Scalar):
        return Scalar(fn(operand.value))
    out: list[Item] = []
    for item in operand:
        if isinstance(item, Number):
            out.append(Number(item.labels, fn(item.value)))
        else:
            out.append(Series(item.labels, tuple((t, fn(v)) for t, v in item.points)))
    return tuple(out)


def _joins(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    items_a, items_b = set(a.items()), set(b.items())
    return items_a <= items_b or items_b <= items_a


def _combine(op: str, a: Item, b: Item, labels: Mapping[str, str]) -> Item:
    if isinstance(a, Number) and isinstance(b, Number):
        return Number(labels, _apply2(op, a.value, b.value))
    if isinstance(a, Number) and isinstance(b, Series):
        return Series(labels, tuple((t, _apply2(op, a.value, v)) for t, v in b.points))
    if isinstance(a, Series) and isinstance(b, Number):
        return Series(labels, tuple((t, _apply2(op, v, b.value)) for t, v in a.points))
    assert isinstance(a, Series) and isinstance(b, Series)
    right = dict(b.points)
    return Series(labels, tuple((t, _apply2(op, v, right[t])) for t, v in a.points if t in right))


def _union(op: str, left: tuple[Item, ...], right: tuple[Item, ...]) -> tuple[Item, ...]:
    if len(left) == 1 and len(right) == 1:
        a, b = left[0], right[0]
        if _joins(a.labels, b.labels):
            labels = a.labels if len(a.labels) >= len(b.labels) else b.labels
        else:
            labels = a.labels or b.labels
        return (_combine(op, a, b, labels),)
    out: list[Item] = []
    for a in left:
        for b in right:
            if _joins(a.labels, b.labels):
                labels = a.labels if len(a.labels) >= len(b.labels) else b.labels
                out.append(_combine(op, a, b, labels))
    return tuple(out)


class _Evaluator:
    def __init__(self, inputs: Mapping[str, Results]) -> None:
        self.inputs = inputs

    def eval(self, node: Tree[Token] | Token) -> Operand:
        if isinstance(node, Token):  # pragma: no cover - the grammar wraps every token
            raise ExpressionError(f"unexpected token {node!r}")
        handler = getattr(self, f"_{node.data}", None)
        if handler is None:  # pragma: no cover - every rule of math.lark has a handler
            raise ExpressionError(f"unexpected node {node.data}")
        result: Operand = handler(*node.children)
        return result

    def _number(self, token: Token) -> Operand:
        return Scalar(_number(str(token)))

    def _var(self, token: Token) -> Operand:
        name = _var_name(token)
        if name not in self.inputs:
            raise ExpressionError(
                f"math expression reads ${name}, which no query or expression defines"
            )
        results = self.inputs[name]
        if results.no_data or not results.items:
            raise _NoData
        return results.items

    def _neg(self, child: Tree[Token]) -> Operand:
        return _map(self.eval(child), lambda v: None if v is None else -v)

    def _not_(self, child: Tree[Token]) -> Operand:
        return _map(self.eval(child), lambda v: None if v is None else float(v == 0))

    def _binary(self, op: str, left: Tree[Token], right: Tree[Token]) -> Operand:
        a, b = self.eval(left), self.eval(right)
        if isinstance(a, Scalar) and isinstance(b, Scalar):
            return Scalar(_apply2(op, a.value, b.value))
        if isinstance(a, Scalar):
            return _map(b, lambda v: _apply2(op, a.value, v))
        if isinstance(b, Scalar):
            return _map(a, lambda v: _apply2(op, v, b.value))
        return _union(op, a, b)

    def _arith(self, left: Tree[Token], op: Token, right: Tree[Token]) -> Operand:
        return self._binary(str(op), left, right)

    def _compare(self, left: Tree[Token], op: Token, right: Tree[Token]) -> Operand:
        return self._binary(str(op), left, right)

    def _and_(self, left: Tree[Token], right: Tree[Token]) -> Operand:
        return self._binary("&&", left, right)

    def _or_(self, left: Tree[Token], right: Tree[Token]) -> Operand:
        return self._binary("||", left, right)

    def _call(self, name: Token, argument: Tree[Token] | None) -> Operand:
        function = str(name)
        if function in _CONSTANTS:
            if argument is not None:
                raise ExpressionError(f"{function}() takes no argument")
            return Scalar(_CONSTANTS[function])
        if argument is None:
            raise ExpressionError(f"{function}() needs one argument")
        value = self.eval(argument)
        if function in _TESTS:
            return _map(value, _TESTS[function])
        if function in _ON_VALUES:
            fn = _ON_VALUES[function]
            return _map(value, lambda v: None if v is None else fn(v))
        raise Unsupported(f"math function {function}()")
