"""Grafana's template interpolation for Prometheus queries, reproduced.

Forms: `$var`, `${var}`, `${var:format}`, `[[var]]`, `[[var:format]]`, and the macros
(`$__interval`, `$__rate_interval`, `$__range`, ...). Without a format, a Prometheus data
source escapes like Grafana's `interpolateQueryExpr`: a single-value variable is only
quote-escaped, a multi-value or include-All variable is regex-escaped and several values
become `(a|b)`. The escaping is copied exactly, including its quirks (`${var:regex}`
escapes with one backslash, which PromQL rejects inside a double-quoted string when a value
contains a dot): the checker must see what Grafana sends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import quote

ALL_VALUE = "$__all"
ALL_TEXT = "All"

# Grafana's own pattern (public/app/features/variables/utils.ts, variableRegex).
VARIABLE_PATTERN = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}"
)
_REGEX_SPECIAL = re.compile(r"[\\^$*+?.()|\[\]{}/]")
_PROM_SPECIAL = re.compile(r"[$^*{}\[\]'+?.()|]")
_MAX_DEPTH = 5


@dataclass(frozen=True)
class VariableValue:
    """The value a template variable has for one query: its selected values and how to
    format them."""

    name: str
    values: tuple[str, ...]
    texts: tuple[str, ...] = ()
    multi: bool = False
    include_all: bool = False
    is_all: bool = False
    all_value: str | None = None
    kind: str = "query"
    datasource_type: str = ""

    def bound_to(self, value: str, text: str = "") -> VariableValue:
        """The same variable pinned to one value, as a repeated panel sees it."""
        return replace(self, values=(value,), texts=(text or value,), is_all=False)

    def describe(self) -> str:
        """`provider=All (openai, claude)` for report headers."""
        shown = ", ".join(self.values) if self.values else "no values"
        if self.is_all:
            custom = f", allValue {self.all_value}" if self.all_value else ""
            return f"{self.name}=All ({shown}{custom})"
        return f"{self.name}={shown}"


@dataclass
class Interpolation:
    """The result of interpolating a text: the text, and variables that were not found."""

    text: str
    unknown: list[str] = field(default_factory=list)


def regex_escape(value: str) -> str:
    """Grafana's `kbn.regexEscape` (used by `${var:regex}`): one backslash per character."""
    return _REGEX_SPECIAL.sub(lambda m: "\\" + m.group(), value)


def prometheus_regex_escape(value: str) -> str:
    """Grafana's `prometheusSpecialRegexEscape`: doubled backslashes for a PromQL string."""
    value = value.replace("\\", "\\\\\\\\")
    return _PROM_SPECIAL.sub(lambda m: "\\\\" + m.group(), value)


def prometheus_escape(value: str) -> str:
    """Grafana's `prometheusRegularEscape`, for a single-value variable."""
    return value.replace("\\", "\\\\").replace("'", "\\\\'")


def format_value(variable: VariableValue, fmt: str | None) -> str:
    """Format the variable's values as Grafana does for a Prometheus query.

    `fmt` is the `${var:fmt}` format or None for the data source's default.
    """
    values = list(variable.values)
    many = variable.multi or variable.include_all
    if fmt is None:
        if not many:
            return prometheus_escape(values[0] if values else "")
        escaped = [prometheus_regex_escape(v) for v in values]
        return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"
    fmt = fmt.lower()
    if fmt == "regex":
        escaped = [regex_escape(v) for v in values]
        return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"
    if fmt == "pipe":
        return "|".join(values)
    if fmt in ("csv", "raw"):
        return ",".join(values)
    if fmt == "text":
        if variable.is_all:
            return ALL_TEXT
        return " + ".join(variable.texts or variable.values)
    if fmt == "json":
        return json.dumps(values if many else (values[0] if values else ""))
    if fmt == "doublequote":
        return ",".join('"' + v.replace('"', '\\"') + '"' for v in values)
    if fmt == "singlequote":
        return ",".join("'" + v.replace("'", "\\'") + "'" for v in values)
    if fmt == "sqlstring":
        return ",".join("'" + v.replace("'", "''") + "'" for v in values)
    if fmt == "percentencode":
        return quote(",".join(values) if len(values) != 1 else values[0], safe="")
    if fmt == "queryparam":
        return "&".join(f"var-{variable.name}={quote(v, safe='')}" for v in values)
    if fmt == "distributed":
        return ",".join(
            [values[0], *[f"{variable.name}={v}" for v in values[1:]]] if values else []
        )
    if fmt == "lucene":
        quoted = ['"' + v.replace('"', '\\"') + '"' for v in values]
        return quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")"
    # glob, and Grafana's fallback for an unknown format
    return values[0] if len(values) == 1 else "{" + ",".join(values) + "}"


def interpolate(
    text: str,
    variables: Mapping[str, VariableValue],
    macros: Mapping[str, str] | None = None,
    *,
    default_format: str | None = None,
) -> Interpolation:
    """Replace every variable and macro reference in `text`.

    `default_format` applies to references written without one (Grafana interpolates a
    variable's regex with `regex`); None is the Prometheus data source's own escaping.
    Unknown names are left as written (Grafana does the same, and Mimir then reports the
    stray `$`); they are listed in `unknown`, except `$1`-style regex group references.
    """
    result = Interpolation(text)
    result.text = _interpolate(text, variables, macros or {}, result.unknown, 0, default_format)
    return result


def _interpolate(
    text: str,
    variables: Mapping[str, VariableValue],
    macros: Mapping[str, str],
    unknown: list[str],
    depth: int,
    default_format: str | None,
) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(4)
        fmt = match.group(3) or match.group(6) or default_format
        if name in macros:
            return macros[name]
        variable = variables.get(name)
        if variable is None:
            if not name.isdigit() and name not in unknown:
                unknown.append(name)
            return match.group()
        custom_all = variable.is_all and variable.all_value is not None
        if custom_all and fmt not in ("text", "percentencode", "queryparam"):
            # Grafana uses a custom all value as written (itself interpolated).
            assert variable.all_value is not None
            if depth >= _MAX_DEPTH:
                return variable.all_value
            return _interpolate(
                variable.all_value, variables, macros, unknown, depth + 1, default_format
            )
        return format_value(variable, fmt)

    return VARIABLE_PATTERN.sub(substitute, text)


def references(text: str) -> list[str]:
    """The variable names `text` refers to, in order, without duplicates."""
    names: dict[str, None] = {}
    for match in VARIABLE_PATTERN.finditer(text):
        names[match.group(1) or match.group(2) or match.group(4)] = None
    return list(names)
