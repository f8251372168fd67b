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

from scanium_e2e.clients.query import Sample, Series
from scanium_e2e.errors import EndpointError
from scanium_e2e.findings import Finding, Kind, distinct
from scanium_e2e.promql import (
    Analysis,
    Grouping,
    Matcher,
    PromQLSyntaxError,
    Selector,
    analyse,
    format_duration,
    labels_reaching,
)

MAX_LISTED = 10
# High enough that `errors_total` is not offered for `requests_total`, low enough to catch
# a missing `_total`/`_bucket` suffix or a one-letter typo.
SIMILAR_NAME_CUTOFF = 0.88


class QueryClient(Protocol):
    """The read API of Mimir the checker needs; StoreClient and the test doubles have it."""

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
) -> list[Finding]:
    """Findings on why `expr` returns nothing over [start, end], each rendering a sentence.

    Never empty: when every selector matches data, the finding says the operators of the
    expression (binary matching, filters) removed it. Raises TransientError when Mimir is
    unreachable; a query Mimir rejects becomes a "could not check" finding.
    """
    try:
        analysis = analyse(expr)
    except PromQLSyntaxError as exc:
        return [Finding(Kind.UNREADABLE_EXPRESSION, subject=expr, detail=str(exc))]
    window = _Window(client, start, end, step_s)
    reasons: list[Finding] = []
    for selector in _unique(analysis.selectors):
        try:
            reasons.extend(_explain_selector(window, selector))
        except (EndpointError, PromQLSyntaxError) as exc:
            reasons.append(Finding(Kind.COULD_NOT_CHECK, subject=selector.text, detail=str(exc)))
    reasons.extend(_explain_groupings(window, analysis))
    if not reasons:
        reasons.append(_operators_reason(analysis))
    return distinct(reasons)


def grouping_findings(
    client: QueryClient, expr: str, start: datetime, end: datetime
) -> list[Finding]:
    """Findings for every `by (...)` of `expr` naming a label its series never carry.

    Such a query still returns data (one series without the label), so a panel shows a
    line, but not the breakdown its title promises.
    """
    try:
        analysis = analyse(expr)
    except PromQLSyntaxError:
        return []
    return distinct(_explain_groupings(_Window(client, start, end, None), analysis))


def _unique(found: Sequence[Selector]) -> list[Selector]:
    seen: dict[tuple[str, str, str], Selector] = {}
    for selector in found:
        seen.setdefault(
            (selector.text, selector.range_text, selector.two_sample_function), selector
        )
    return list(seen.values())


def _explain_selector(window: _Window, selector: Selector) -> list[Finding]:
    base = selector.promql(only_name=True)
    if not base:
        # No metric name: nothing coarser to ask about than the selector itself.
        if window.client.series(selector.promql(), window.start, window.end):
            return _explain_samples(window, selector, matched=1)
        return [Finding(Kind.SERIES_NEVER_SEEN, subject=selector.text, detail=window.describe())]
    names = window.names_of(base)
    if not names:
        return [_metric_missing(window, selector, base)]
    what = selector.name or base
    problems: list[Finding] = []
    for matcher in selector.label_matchers:
        absent_ok = matcher.matches("")
        if matcher.name not in names:
            if not absent_ok:
                problems.append(
                    Finding(
                        Kind.LABEL_NEVER_SEEN,
                        subject=selector.text,
                        expected=matcher.name,
                        seen=_labels(names),
                        detail=f"on `{what}` {window.describe()}",
                    )
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


def _metric_missing(window: _Window, selector: Selector, base: str) -> Finding:
    name = selector.name or base
    detail = window.describe()
    if window.client.label_names(match=base):
        detail += "; the store has series of it outside this window (it stopped, or started later)"
    if selector.name:
        known = window.client.metric_names(window.start, window.end)
        extended = sorted(other for other in known if other.startswith(selector.name + "_"))
        if extended:
            detail += _translated(window, selector, extended[0])
            known = [other for other in known if other not in extended]
        similar = difflib.get_close_matches(selector.name, known, n=3, cutoff=SIMILAR_NAME_CUTOFF)
        if similar:
            detail += "; did you mean " + " or ".join(f"`{s}`" for s in similar) + "?"
    return Finding(Kind.METRIC_NEVER_SEEN, subject=name, detail=detail)


def _translated(window: _Window, selector: Selector, held: str) -> str:
    """The clause naming the series the store holds under a longer name: what an OTLP
    exporter makes of an instrument (it appends the unit and type: `_ratio` for a gauge of
    unit 1, `_total` for a counter), with its labels and the query's labels it lacks."""
    names = [name for name in window.names_of(held) if name != "__name__"]
    lacking = [m.name for m in selector.label_matchers if m.name not in names and not m.matches("")]
    clause = (
        f"; the store holds `{held}` (labels: {_labels(names)}): an OTLP exporter appends "
        "the unit and type to an instrument's name (`_ratio` for a gauge of unit 1, `_total` "
        "for a counter), so the query needs that name"
    )
    if lacking:
        clause += ", and it carries no " + ", ".join(f"`{name}`" for name in lacking)
    return clause


def _value_missing(selector: Selector, what: str, matcher: Matcher, values: list[str]) -> Finding:
    seen = f"values seen: {_listed(values)}" if values else "no values seen"
    if matcher.op == "=":
        kind, detail, seen = Kind.VALUE_NEVER_SEEN, f"on `{what}`", f"{matcher.name} {seen}"
    elif matcher.op == "=~":
        kind, detail = Kind.REGEX_MATCHES_NO_VALUE, f"of `{matcher.name}` on `{what}`"
    else:
        kind, detail, seen = Kind.MATCHER_EXCLUDES_ALL, f"of `{what}`", f"{matcher.name} {seen}"
    return Finding(kind, subject=selector.text, expected=matcher.promql(), seen=seen, detail=detail)


def _combination_missing(
    window: _Window, selector: Selector, base: str, what: str
) -> list[Finding]:
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
        Finding(
            Kind.COMBINATION_NEVER_SEEN,
            subject=selector.text,
            seen=_listed(list(combos), quoted=False),
            detail=f"of `{what}`",
        )
    ]


def _explain_samples(window: _Window, selector: Selector, *, matched: int) -> list[Finding]:
    function = selector.two_sample_function
    if function and selector.range_s is not None:
        # Counted at the query's own steps when it has them: a rate() is empty when no
        # step's range holds two samples, though ranges ending between steps may.
        counts = _sample_counts(window, selector, window.step_s)
        most = _most(counts)
        if most < 2:
            plural = "" if most == 1 else "s"
            seen = f"at most {most:g} sample{plural} in any [{selector.range_text}] range"
            late = _late_pair(window, selector)
            if late is not None:
                return [
                    Finding(
                        Kind.SAMPLES_AFTER_LAST_STEP,
                        subject=selector.text,
                        expected=f"{function}() needs at least 2",
                        seen=f"{seen} at the query's {format_duration(window.step_s or 0)} "
                        f"steps (2 first in the range ending at {late})",
                        detail=str(matched),
                    )
                ]
            return [
                Finding(
                    Kind.TOO_FEW_SAMPLES,
                    subject=selector.text,
                    expected=f"{function}() needs at least 2",
                    seen=seen,
                    detail=str(matched),
                )
            ]
    absent = [f for f in selector.functions if f.lower() in ("absent", "absent_over_time")]
    if absent:
        return [
            Finding(
                Kind.ABSENT_IS_HEALTHY,
                subject=selector.text,
                expected=f"{absent[0]}()",
                seen=str(matched),
            )
        ]
    return []


def _sample_counts(window: _Window, selector: Selector, step_s: float | None) -> list[Series]:
    """`count_over_time` of `selector` over its own range, at `step_s` (else a fine step)."""
    span = (window.end - window.start).total_seconds()
    range_s = selector.range_s or 0.0
    step = step_s or max(1.0, min(range_s, span / 500), span / 10_000)
    return window.client.range(
        f"count_over_time({selector.promql()}[{selector.range_text}])",
        window.start,
        window.end,
        step,
    )


def _most(counts: Sequence[Series]) -> float:
    return max((v for s in counts for _, v in s.points if not math.isnan(v)), default=0.0)


def _late_pair(window: _Window, selector: Selector) -> str | None:
    """When only ranges ending after the query's last step hold two samples (a series
    younger than two scrapes at the last step), the first such end, `HH:MM:SS UTC`; None
    for a query without steps."""
    step = window.step_s
    if not step:
        return None
    span = (window.end - window.start).total_seconds()
    last_step = window.start.timestamp() + math.floor(span / step) * step
    ends = [
        at
        for series in _sample_counts(window, selector, None)
        for at, value in series.points
        if not math.isnan(value) and value >= 2
    ]
    if not ends or min(ends) <= last_step:
        return None
    return f"{datetime.fromtimestamp(min(ends), UTC):%H:%M:%S} UTC"


def _explain_groupings(window: _Window, analysis: Analysis) -> list[Finding]:
    reasons: list[Finding] = []
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


def _grouping_reason(grouping: Grouping, selector: Selector, names: set[str]) -> list[Finding]:
    available = labels_reaching(selector, grouping.scope_id, names)
    missing = [label for label in grouping.labels if label not in available]
    if not missing:
        return []
    clause = f"{grouping.operator} by ({', '.join(grouping.labels)})"
    shown = ", ".join(f"`{label}`" for label in missing)
    return [
        Finding(
            Kind.GROUPING_LABEL_MISSING,
            subject=clause,
            expected=shown,
            seen=_labels(sorted(available)),
            detail=f"`{selector.name or selector.text}`",
        )
    ]


def _operators_reason(analysis: Analysis) -> Finding:
    if not analysis.selectors:
        return Finding(Kind.NO_SELECTORS)
    return Finding(Kind.OPERATORS_EMPTIED)


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
