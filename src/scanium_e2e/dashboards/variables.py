"""Resolve a dashboard's template variables to the values Grafana would use.

Query variables are evaluated against Mimir over the check window, in dependency order (a
query may use `$other`), with the variable's regex filter and sort applied; the saved
`current` value is kept when it is still among the options, as Grafana keeps it. When a
query fails or the data source is not Prometheus, the saved options and current value are
the fallback, and a note says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from scanium_e2e.dashboards.datasources import UNKNOWN, resolve_datasource
from scanium_e2e.dashboards.interpolation import (
    ALL_TEXT,
    ALL_VALUE,
    VariableValue,
    interpolate,
    references,
)
from scanium_e2e.dashboards.intervals import duration_or, macros, round_interval
from scanium_e2e.dashboards.model import Dashboard, Option, Variable
from scanium_e2e.errors import EndpointError
from scanium_e2e.promql import format_duration
from scanium_e2e.verdict.empty_query import QueryClient

# Grafana's metricFindQuery patterns (public/app/plugins/datasource/prometheus).
_LABEL_VALUES = re.compile(r"^label_values\((?:(.+),\s*)?([a-zA-Z_$][a-zA-Z0-9_]*)\)\s*$", re.S)
_LABEL_NAMES = re.compile(r"^label_names\((.*)\)\s*$", re.S)
_METRICS = re.compile(r"^metrics\((.+)\)\s*$", re.S)
_QUERY_RESULT = re.compile(r"^query_result\((.+)\)\s*$", re.S)
_CUSTOM_ITEM = re.compile(r"(?:\\,|[^,])+")
_CUSTOM_KEY_VALUE = re.compile(r"^\s*(.+)\s:\s(.+)$")
_JS_REGEX = re.compile(r"^/(.*?)/([gimsuy]*)$", re.S)
_FIRST_NUMBER = re.compile(r"(\d+)")


@dataclass
class ResolvedVariables:
    """Every variable's value, and notes on what could not be resolved as Grafana would."""

    values: dict[str, VariableValue] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """`provider=All (openai, claude); interval=1m` for report headers."""
        shown = [v.describe() for v in self.values.values() if v.kind not in ("constant",)]
        return "; ".join(shown) if shown else "none"


def resolve_variables(
    client: QueryClient,
    dashboard: Dashboard,
    start: datetime,
    end: datetime,
    *,
    overrides: Mapping[str, Sequence[str]] | None = None,
) -> ResolvedVariables:
    """The value of every template variable of `dashboard` for the window [start, end].

    `overrides` pins variables (like `?var-provider=openai` in a Grafana URL); `All` or
    `$__all` selects every option; names the dashboard does not have are
    ignored. Raises TransientError when Mimir is unreachable.
    """
    return _Resolver(client, dashboard, start, end, dict(overrides or {})).run()


class _Resolver:
    def __init__(
        self,
        client: QueryClient,
        dashboard: Dashboard,
        start: datetime,
        end: datetime,
        overrides: dict[str, Sequence[str]],
    ) -> None:
        self.client = client
        self.dashboard = dashboard
        self.start, self.end = start, end
        self.overrides = overrides
        self.result = ResolvedVariables()
        self.visiting: set[str] = set()
        self.by_name = {v.name: v for v in dashboard.variables}

    def run(self) -> ResolvedVariables:
        for item in self.dashboard.inputs:
            if item.type == "constant":
                self.result.values[item.name] = VariableValue(
                    item.name, (item.value,), kind="constant"
                )
        for variable in self.dashboard.variables:
            self.resolve(variable)
        return self.result

    def resolve(self, variable: Variable) -> None:
        if variable.name in self.result.values:
            return
        if variable.name in self.visiting:
            self.result.notes.append(
                f"variable ${variable.name} depends on itself through other variables; "
                "using its saved value"
            )
            self.result.values[variable.name] = self.select(variable, list(variable.options))
            return
        self.visiting.add(variable.name)
        text = " ".join([variable.query, variable.regex, variable.all_value or ""])
        if isinstance(variable.datasource, str):
            text += " " + variable.datasource
        elif isinstance(variable.datasource, dict):
            text += " " + variable.datasource.get("uid", "")
        for name in references(text):
            if name in self.by_name and name != variable.name:
                self.resolve(self.by_name[name])
        self.visiting.discard(variable.name)
        self.result.values[variable.name] = self.compute(variable)

    def compute(self, variable: Variable) -> VariableValue:
        kind = variable.type
        if kind == "constant":
            return VariableValue(variable.name, (variable.query,), kind="constant")
        if kind == "textbox":
            value = variable.current[0] if variable.current else variable.query
            wanted = self.overrides.get(variable.name)
            return VariableValue(variable.name, (wanted[0] if wanted else value,), kind="textbox")
        if kind == "custom":
            return self.select(variable, custom_options(variable.query))
        if kind == "interval":
            return self.interval(variable)
        if kind == "datasource":
            chosen = self.select(variable, list(variable.options))
            name = chosen.values[0] if chosen.values else "default"
            return VariableValue(
                variable.name, (name,), kind="datasource", datasource_type=variable.query
            )
        if kind == "query":
            return self.query(variable)
        if kind == "adhoc":
            self.result.notes.append(
                f"ad hoc filter variable ${variable.name} is not applied to the queries"
            )
        return self.select(variable, list(variable.options))

    def interval(self, variable: Variable) -> VariableValue:
        options = [Option(v.strip(), v.strip()) for v in variable.query.split(",") if v.strip()]
        auto_value = f"$__auto_interval_{variable.name}"
        if variable.auto:
            options.insert(0, Option("auto", auto_value))
        value = self.select(variable, options)
        if value.values and value.values[0] in (auto_value, "auto"):
            span = (self.end - self.start).total_seconds()
            seconds = max(
                round_interval(span / max(variable.auto_count, 1)),
                duration_or(variable.auto_min, 10.0),
            )
            return VariableValue(
                variable.name, (format_duration(seconds),), ("auto",), kind="interval"
            )
        return value

    def query(self, variable: Variable) -> VariableValue:
        source = resolve_datasource(variable.datasource, self.dashboard, self.result.values)
        if not source.is_prometheus and source.type != UNKNOWN:
            self.result.notes.append(
                f"variable ${variable.name} queries a {source.type} data source; using its "
                "saved options"
            )
            return self.select(variable, list(variable.options), known=False)
        expanded = interpolate(variable.query, self.result.values, macros(self.start, self.end))
        regex = interpolate(variable.regex, self.result.values, default_format="regex").text
        try:
            found = run_variable_query(self.client, expanded.text, self.start, self.end)
            options = filter_options(found, regex)
        except (EndpointError, re.error) as exc:
            self.result.notes.append(
                f"variable ${variable.name}: `{expanded.text}` failed ({exc}); using its "
                "saved value"
            )
            return self.select(variable, list(variable.options), known=False)
        options = sort_options(options, variable.sort)
        if not options:
            self.result.notes.append(
                f"variable ${variable.name}: `{expanded.text}` found no values in the window"
                + (f" matching regex {variable.regex}" if variable.regex else "")
            )
        return self.select(variable, options)

    def select(
        self, variable: Variable, options: list[Option], *, known: bool = True
    ) -> VariableValue:
        """Pick the values Grafana would: an override, else the saved current value if it
        is still an option, else All (with include All) or the first option."""
        option_values = [o.value for o in options if o.value != ALL_VALUE]
        texts = {o.value: o.text for o in options}
        override = self.overrides.get(variable.name)
        requested = list(override) if override is not None else list(variable.current)
        is_all = variable.include_all and any(v in (ALL_VALUE, ALL_TEXT) for v in requested)
        chosen: list[str] = []
        if not is_all:
            if override is not None or not known or not option_values:
                chosen = [v for v in requested if v not in (ALL_VALUE, ALL_TEXT)]
            else:
                chosen = [v for v in requested if v in option_values]
                if requested and not chosen:
                    self.result.notes.append(
                        f"variable ${variable.name}: saved value {', '.join(requested)} is "
                        f"not among the values found ({', '.join(option_values[:10])}); "
                        "Grafana selects " + (ALL_TEXT if variable.include_all else "the first")
                    )
            if not chosen:
                if variable.include_all and (option_values or not requested):
                    is_all = True
                elif option_values:
                    chosen = option_values[:1]
            if not variable.multi:
                chosen = chosen[:1]
        values = tuple(option_values if is_all else chosen)
        return VariableValue(
            name=variable.name,
            values=values,
            texts=tuple(texts.get(v, v) for v in values),
            multi=variable.multi,
            include_all=variable.include_all,
            is_all=is_all,
            all_value=variable.all_value,
            kind=variable.type,
        )


def custom_options(query: str) -> list[Option]:
    """Options of a custom variable: `a, b, c` or `text : value` items (`\\,` escapes)."""
    options: list[Option] = []
    for raw in _CUSTOM_ITEM.findall(query):
        item = raw.strip().replace("\\,", ",")
        if not item:
            continue
        pair = _CUSTOM_KEY_VALUE.match(item)
        if pair:
            options.append(Option(pair.group(1).strip(), pair.group(2).strip()))
        else:
            options.append(Option(item, item))
    return options


def run_variable_query(
    client: QueryClient, query: str, start: datetime, end: datetime
) -> list[Option]:
    """Evaluate a Prometheus variable query the way Grafana's metricFindQuery does."""
    query = query.strip()
    if not query:
        return []
    match = _LABEL_VALUES.match(query)
    if match:
        metric = (match.group(1) or "").strip()
        values = client.label_values(match.group(2), match=metric, start=start, end=end)
        return [Option(v, v) for v in values]
    match = _LABEL_NAMES.match(query)
    if match:
        names = client.label_names(match=match.group(1).strip(), start=start, end=end)
        return [Option(n, n) for n in names if n != "__name__"]
    match = _METRICS.match(query)
    if match:
        pattern = re.compile(match.group(1).strip())
        return [Option(n, n) for n in client.metric_names(start, end) if pattern.search(n)]
    match = _QUERY_RESULT.match(query)
    if match:
        samples = client.instant(match.group(1).strip(), at=end)
        stamp = round(end.timestamp() * 1000)
        lines = []
        for sample in samples:
            labels = dict(sample.labels)
            name = labels.pop("__name__", "")
            pairs = ",".join(f'{k}="{v}"' for k, v in labels.items())
            lines.append(f"{name}{{{pairs}}} {_number(sample.value)} {stamp}")
        return [Option(line, line) for line in lines]
    found = client.series(query, start, end)
    texts = []
    for labels in found:
        name = labels.get("__name__", "")
        pairs = ",".join(f'{k}="{v}"' for k, v in labels.items() if k != "__name__")
        texts.append(f"{name}{{{pairs}}}")
    return [Option(t, t) for t in texts]


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def js_regex(text: str) -> re.Pattern[str]:
    """Grafana's stringToJsRegex: `/pattern/flags`, or a bare pattern anchored at both ends."""
    match = _JS_REGEX.match(text)
    if not match:
        return re.compile(f"^{_python_groups(text)}$")
    flags = 0
    for flag, value in (("i", re.I), ("m", re.M), ("s", re.S)):
        if flag in match.group(2):
            flags |= value
    return re.compile(_python_groups(match.group(1)), flags)


def _python_groups(pattern: str) -> str:
    # JavaScript names groups (?<name>...); Python wants (?P<name>...).
    return re.sub(r"\(\?<(?![=!])", "(?P<", pattern)


def filter_options(options: list[Option], regex: str) -> list[Option]:
    """Apply a variable's regex: drop non-matching values; a capture group (or named
    groups `text`/`value`) picks the part to keep. Duplicates are removed."""
    pattern = js_regex(regex) if regex else None
    out: dict[str, Option] = {}
    for option in options:
        text, value = option.text, option.value
        if pattern is not None:
            match = pattern.search(value)
            if match is None:
                continue
            named = match.groupdict()
            if named.get("value") is not None or named.get("text") is not None:
                value = named.get("value") or named.get("text") or value
                text = named.get("text") or value
            elif match.groups() and match.group(1):
                value = text = match.group(1)
        out.setdefault(value, Option(text, value))
    return list(out.values())


def sort_options(options: list[Option], sort: int) -> list[Option]:
    """Grafana's variable sort: 1/2 alphabetical, 3/4 numerical, 5/6 case-insensitive,
    7/8 natural; odd ascending, even descending; 0 keeps the query's order."""
    if sort <= 0:
        return options
    descending = sort % 2 == 0
    mode = (sort + 1) // 2
    if mode == 2:

        def key(option: Option) -> tuple[object, ...]:
            found = _FIRST_NUMBER.search(option.text)
            return (int(found.group(1)) if found else -1,)

    elif mode == 3:

        def key(option: Option) -> tuple[object, ...]:
            return (option.text.lower(),)

    elif mode == 4:

        def key(option: Option) -> tuple[object, ...]:
            parts = re.split(r"(\d+)", option.text.lower())
            return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)

    else:

        def key(option: Option) -> tuple[object, ...]:
            return (option.text,)

    return sorted(options, key=key, reverse=descending)
