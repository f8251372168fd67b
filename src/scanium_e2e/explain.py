"""Why is a query empty? Pint-style explanations (cloudflare/pint's `promql/series` check).

`explain_empty` reads the selectors out of the expression and asks Mimir about each one,
from the coarsest fact to the finest: the metric was never seen in the window; a label was
never seen on that metric; a value was never seen (listing the values that exist); the
matchers each match but not together; a rate() range holds fewer than two samples; an
aggregation groups by a label the metric does not carry. The same function serves the
dashboard checker and the suite's own checks (diagnose.py).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from scanium_e2e.errors import EndpointError
from scanium_e2e.mimir import Sample, Series
from scanium_e2e.promql import (
    Analysis,
    Grouping,
    Matcher,
    PromQLSyntaxError,
    Selector,
    analyse,
    labels_reaching,
)

MAX_LISTED = 10
# High enough that `errors_total` is not offered for `requests_total`, low enough to catch
# a missing `_total`/`_bucket` suffix or a one-letter typo.
SIMILAR_NAME_CUTOFF = 0.88


class QueryClient(Protocol):
    """The read API of Mimir the checker needs; MimirClient and the test doubles have it."""

    def instant(self, query: str, at: datetime | None = None) -> list[Sample]:
        """Instant vector of `query` at `at`."""
        ...

    def range(self, query: str, start: datetime, end: datetime, step_s: float) -> list[Series]:
        """Range query over [start, end]."""
        ...

    def series(self, match: str, start: datetime, end: datetime) -> list[dict[str, str]]:
        """Label sets of the series matching `match`."""
        ...

    def label_values(
        self,
        label: str,
        match: str = "",
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[str]:
        """Values of `label` (on series matching `match`)."""
        ...

    def label_names(
        self, match: str = "", start: datetime | None = None, end: datetime | None = None
    ) -> list[str]:
        """Label names (of series matching `match`)."""
        ...

    def metric_names(self, start: datetime | None = None, end: datetime | None = None) -> list[str]:
        """Every metric name."""
        ...


@dataclass
class _Window:
    client: QueryClient
    start: datetime
    end: datetime
    step_s: float | None
    label_names: dict[str, list[str]] = field(default_factory=dict)

    def names_of(self, match: str) -> list[str]:
        """Label names of `match` in the window, cached: several selectors share a metric."""
        if match not in self.label_names:
            names = self.client.label_names(match=match, start=self.start, end=self.end)
            # Keep __name__: a metric without labels still has it, and "no names" must mean
            # "no series".
            self.label_names[match] = sorted(names)
        return self.label_names[match]

    def describe(self) -> str:
        return describe_window(self.start, self.end)


def explain_empty(
    client: QueryClient,
    expr: str,
    start: datetime,
    end: datetime,
    *,
    step_s: float | None = None,
) -> list[str]:
    """Reasons why `expr` returns nothing over [start, end], one sentence each.

    Never empty: when every selector matches data, the reason says the operators of the
    expression (binary matching, filters) removed it. Raises TransientError when Mimir is
    unreachable; a query Mimir rejects becomes a "could not check" reason.
    """
    try:
        analysis = analyse(expr)
    except PromQLSyntaxError as exc:
        return [f"could not read the expression to explain it ({exc})"]
    window = _Window(client, start, end, step_s)
    reasons: list[str] = []
    for selector in _unique(analysis.selectors):
        try:
            reasons.extend(_explain_selector(window, selector))
        except (EndpointError, PromQLSyntaxError) as exc:
            reasons.append(f"could not check `{selector.text}`: {exc}")
    reasons.extend(_explain_groupings(window, analysis))
    if not reasons:
        reasons.append(_operators_reason(analysis))
    return list(dict.fromkeys(reasons))


def _unique(found: Sequence[Selector]) -> list[Selector]:
    seen: dict[tuple[str, str, str], Selector] = {}
    for selector in found:
        seen.setdefault(
            (selector.text, selector.range_text, selector.two_sample_function), selector
        )
    return list(seen.values())


def _explain_selector(window: _Window, selector: Selector) -> list[str]:
    base = selector.promql(only_name=True)
    if not base:
        # No metric name: nothing coarser to ask about than the selector itself.
        if window.client.series(selector.promql(), window.start, window.end):
            return _explain_samples(window, selector, matched=1)
        return [f"`{selector.text}`: no series matches it {window.describe()}"]
    names = window.names_of(base)
    if not names:
        return [_metric_missing(window, selector, base)]
    what = selector.name or base
    problems: list[str] = []
    for matcher in selector.label_matchers:
        absent_ok = matcher.matches("")
        if matcher.name not in names:
            if not absent_ok:
                problems.append(
                    f"`{selector.text}`: label `{matcher.name}` never seen on `{what}` "
                    f"{window.describe()} (its labels: {_labels(names)})"
                )
            continue
        values = window.client.label_values(
            matcher.name, match=base, start=window.start, end=window.end
        )
        if not any(matcher.matches(value) for value in values) and not absent_ok:
            problems.append(_value_missing(selector, what, matcher, values))
    if problems:
        return problems
    matched = window.client.series(selector.promql(), window.start, window.end)
    if not matched:
        return _combination_missing(window, selector, base, what)
    return _explain_samples(window, selector, matched=len(matched))


def _metric_missing(window: _Window, selector: Selector, base: str) -> str:
    name = selector.name or base
    message = f"`{name}`: metric never seen {window.describe()}"
    if window.client.label_names(match=base):
        message += "; the store has series of it outside this window (it stopped, or started later)"
    if selector.name:
        known = window.client.metric_names(window.start, window.end)
        similar = difflib.get_close_matches(selector.name, known, n=3, cutoff=SIMILAR_NAME_CUTOFF)
        if similar:
            message += "; did you mean " + " or ".join(f"`{s}`" for s in similar) + "?"
    return message


def _value_missing(selector: Selector, what: str, matcher: Matcher, values: list[str]) -> str:
    seen = f"values seen: {_listed(values)}" if values else "no values seen"
    if matcher.op == "=":
        return (
            f"`{selector.text}`: `{matcher.promql()}` never seen on `{what}`; {matcher.name} {seen}"
        )
    if matcher.op == "=~":
        return (
            f"`{selector.text}`: `{matcher.promql()}` matches no value of `{matcher.name}` "
            f"on `{what}`; {seen}"
        )
    return (
        f"`{selector.text}`: `{matcher.promql()}` excludes every series of `{what}`; "
        f"{matcher.name} {seen}"
    )


def _combination_missing(window: _Window, selector: Selector, base: str, what: str) -> list[str]:
    """Each matcher passed on its own label's values; find out which fails on the series."""
    found = window.client.series(base, window.start, window.end)
    alone = [
        _value_missing(
            selector,
            what,
            matcher,
            sorted({labels[matcher.name] for labels in found if matcher.name in labels}),
        )
        for matcher in selector.label_matchers
        if not any(matcher.matches(labels.get(matcher.name, "")) for labels in found)
    ]
    if alone:
        # A negative matcher can pass on values and still exclude every series.
        return alone
    wanted = [m.name for m in selector.label_matchers]
    combos: dict[str, None] = {}
    for labels in found:
        pairs = ", ".join(f'{name}="{labels.get(name, "")}"' for name in wanted)
        combos[f"{{{pairs}}}"] = None
    return [
        f"`{selector.text}`: each matcher matches some series of `{what}`, but no series "
        f"matches all of them together; combinations seen: {_listed(list(combos), quoted=False)}"
    ]


def _explain_samples(window: _Window, selector: Selector, *, matched: int) -> list[str]:
    function = selector.two_sample_function
    if function and selector.range_s is not None:
        span = (window.end - window.start).total_seconds()
        step = window.step_s or max(1.0, min(selector.range_s, span / 500), span / 10_000)
        counts = window.client.range(
            f"count_over_time({selector.promql()}[{selector.range_text}])",
            window.start,
            window.end,
            step,
        )
        most = max((v for s in counts for _, v in s.points if not math.isnan(v)), default=0.0)
        if most < 2:
            return [
                f"`{selector.text}` has {matched} series, but at most {most:g} "
                f"sample{'' if most == 1 else 's'} in any [{selector.range_text}] range: "
                f"{function}() needs at least 2; make the "
                "range span two scrapes or more (Grafana's $__rate_interval does, when the "
                "data source's scrape interval is right)"
            ]
    absent = [f for f in selector.functions if f.lower() in ("absent", "absent_over_time")]
    if absent:
        return [
            f"`{selector.text}` has {matched} series, so {absent[0]}() returns nothing: "
            "that is the healthy state"
        ]
    return []


def _explain_groupings(window: _Window, analysis: Analysis) -> list[str]:
    reasons: list[str] = []
    for grouping in analysis.groupings:
        if grouping.mode != "by":
            continue  # `without` a label the series lack changes nothing
        for selector in _unique(grouping.selectors):
            base = selector.promql(only_name=True)
            if not base:
                continue
            try:
                names = window.names_of(base)
            except EndpointError:
                continue
            if not names:
                continue  # already reported as a missing metric
            reasons.extend(_grouping_reason(grouping, selector, set(names)))
    return reasons


def _grouping_reason(grouping: Grouping, selector: Selector, names: set[str]) -> list[str]:
    available = labels_reaching(selector, grouping.scope_id, names)
    missing = [label for label in grouping.labels if label not in available]
    if not missing:
        return []
    clause = f"{grouping.operator} by ({', '.join(grouping.labels)})"
    shown = ", ".join(f"`{label}`" for label in missing)
    return [
        f"`{clause}` groups by {shown}, which `{selector.name or selector.text}` does not "
        f"carry there (available: {_labels(sorted(available))}); every result "
        "series has it empty"
    ]


def _operators_reason(analysis: Analysis) -> str:
    if not analysis.selectors:
        return "the expression selects no series (only constants or functions of time)"
    return (
        "every selector matches series in the window, so the operators emptied the result: "
        "check binary-operator label matching (on/ignoring), comparison filters, and "
        "offsets or @ modifiers"
    )


def _labels(names: Sequence[str]) -> str:
    return _listed([n for n in names if n != "__name__"], quoted=False)


def _listed(values: Sequence[str], *, quoted: bool = True) -> str:
    if not values:
        return "none"
    shown = [f'"{v}"' if quoted else v for v in values[:MAX_LISTED]]
    more = f" (+{len(values) - MAX_LISTED} more)" if len(values) > MAX_LISTED else ""
    return ", ".join(shown) + more


def describe_window(start: datetime, end: datetime) -> str:
    """`between 2026-01-01 10:00:00 and 10:15:00 UTC`, as the explanations say it."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    end_format = "%H:%M:%S" if start.date() == end.date() else "%Y-%m-%d %H:%M:%S"
    return f"between {start:%Y-%m-%d %H:%M:%S} and {end.strftime(end_format)} UTC"
