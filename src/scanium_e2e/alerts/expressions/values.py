"""The data server-side expressions work on: sets of numbers or of time series.

Grafana's expression engine (the part of Grafana that evaluates alert rules) passes each
query's result on as a set of items, each identified by its labels: `Number`s (an instant
query, or a reduced series) or `Series`. A query that returned nothing is `NO_DATA`, which
every expression passes on. A value is a float, or None where Grafana has null.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

Value = float | None
Labels = Mapping[str, str]


@dataclass(frozen=True)
class Number:
    """One labelled number."""

    labels: Labels
    value: Value


@dataclass(frozen=True)
class Series:
    """One labelled time series: (unix seconds, value) points in time order."""

    labels: Labels
    points: tuple[tuple[float, Value], ...] = ()


Item = Number | Series


@dataclass(frozen=True)
class Results:
    """What one query or expression (one refId) produced."""

    items: tuple[Item, ...] = ()
    no_data: bool = False
    # What made a classic condition hold, as Grafana's evaluation matches say it:
    # `avg() of A = 6210 on {}`, one per series that met its evaluator.
    matches: tuple[str, ...] = ()

    @property
    def has_series(self) -> bool:
        """True when any item is a time series (an alert condition must be numbers)."""
        return any(isinstance(item, Series) for item in self.items)


NO_DATA = Results((), no_data=True)
_EMPTY: dict[str, str] = {}


class ExpressionError(ValueError):
    """An expression cannot be evaluated on its input: an execution error, as Grafana's."""


class Unsupported(ExpressionError):
    """An expression type (or function) outside the documented subset."""

    def __init__(self, what: str) -> None:
        super().__init__(f"cannot evaluate: {what}")
        self.what = what


def is_number(value: Value) -> bool:
    """True for a real, finite value (not null, NaN or an infinity)."""
    return value is not None and math.isfinite(value)


def labels_text(labels: Labels) -> str:
    """`{a="b"}` for messages."""
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


@dataclass(frozen=True)
class QueryWindow:
    """The time range of one query, as unix seconds."""

    start: float
    end: float
    step_s: float = field(default=1.0)
