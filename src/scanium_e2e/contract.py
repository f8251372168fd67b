"""Expectations as data: the metric names, labels and token types the suite checks.

The default contract file (fixtures/contract.json) describes the Scanium backend; a team
adapts the suite to its own backend by pointing SCANIUM_E2E_CONTRACT (or --contract) at a
copy. Parsing is strict: an unknown or misspelt field is an error that names it, because a
silently ignored expectation is a check that cannot fail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, cast, get_args

from scanium_e2e.errors import ConfigurationError


@dataclass(frozen=True)
class MetricSpec:
    """One metric the backend must expose."""

    name: str
    type: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...] = ()
    # What one observation's value is counted in (the latency histogram: "ms" or "s").
    unit: str = ""
    # Labels a series of this family may carry or lack (every other one is exact).
    optional_labels: tuple[str, ...] = ()
    # What a gauge's value means (cache_hit_rate: "hits_over_requests").
    definition: str = ""

    @property
    def series_names(self) -> tuple[str, ...]:
        """The names its series carry in an exposition (a histogram's three, a summary's)."""
        if self.type == "histogram":
            return (self.name + "_bucket", self.name + "_sum", self.name + "_count")
        if self.type == "summary":
            return (self.name, self.name + "_sum", self.name + "_count")
        return (self.name,)

    def own_label(self, series_name: str) -> str:
        """The label the exposition format itself adds to `series_name` ("" for none)."""
        if self.type == "histogram" and series_name == self.name + "_bucket":
            return "le"
        if self.type == "summary" and series_name == self.name:
            return "quantile"
        return ""

    @property
    def ms_per_unit(self) -> float:
        """Milliseconds in one unit of this metric's observations (1 for ms, 1000 for s)."""
        return LATENCY_UNITS[self.unit]


@dataclass(frozen=True)
class ScrapeSpec:
    """How Alloy scrapes the backend, as the series in Mimir show it."""

    job: str = "scanium-backend"
    instance: str = "scanium-backend"
    metrics_path: str = "/metrics"
    component: str = "prometheus.scrape.backend"
    remote_write_component: str = "prometheus.remote_write.mimir"


@dataclass(frozen=True)
class LabelRule:
    """The values one label may take: listed ones, or any matching a pattern (either does)."""

    values: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None

    def allows(self, value: str) -> bool:
        """Whether `value` is in the vocabulary."""
        if value in self.values:
            return True
        return self.pattern is not None and self.pattern.fullmatch(value) is not None

    def describe(self) -> str:
        """`one of success, error` / `matching ^...$` / both."""
        parts = []
        if self.values:
            parts.append("one of " + ", ".join(self.values))
        if self.pattern is not None:
            parts.append(f"matching {self.pattern.pattern}")
        return " or ".join(parts)


@dataclass(frozen=True)
class FaultSpec:
    """The labels an injected LLM fault must get in the errors counter."""

    error_type: str
    reason_code: str


@dataclass(frozen=True)
class CacheSpec:
    """The response cache: the requests counter's label that says whether it answered.

    `repeats`: how many identical requests the plan sends again after their first answer;
    the contract says each is answered from the cache (0: the backend has no cache).
    """

    label: str = "cache_hit"
    hit: str = "true"
    miss: str = "false"
    repeats: int = 2


# The faults the stub LLM can inject (`[[stub:fault=...]]`).
StubFault = Literal["429", "500", "503", "malformed"]
STUB_FAULTS: Final[tuple[str, ...]] = get_args(StubFault)

RecordedAs = Literal["error", "success", "not_recorded"]
RECORDED_AS: Final[tuple[str, ...]] = get_args(RecordedAs)


@dataclass(frozen=True)
class FailureAccounting:
    """How the backend accounts for a request whose LLM call failed.

    `recorded_as`: the `status` such a request gets in the requests counter and latency
    histogram: `error` (the Scanium contract), `success` (a backend that answers a 200
    fallback and counts it as one), or `not_recorded` (it counts only successes).
    `error_counter`: whether the errors counter exists and counts each failure.
    """

    recorded_as: RecordedAs = "error"
    error_counter: bool = True

    def deviations(self) -> list[str]:
        """What this accounting accepts that the Scanium contract does not, in words."""
        accepted = []
        if self.recorded_as == "success":
            accepted.append("injected LLM failures are counted as status=success")
        elif self.recorded_as == "not_recorded":
            accepted.append("injected LLM failures are not counted in the requests metrics")
        if not self.error_counter:
            accepted.append("the backend has no errors counter")
        return accepted


@dataclass(frozen=True)
class AlertExpectations:
    """What the alert rules must do (alerts/): the rules that must fire on a scenario
    (`healthy`, `incident`), and the ones allowed to fire on a healthy pipeline, each with
    its reason (reported as "accepted by contract", never silently)."""

    must_fire: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    allowed_on_healthy: Mapping[str, str] = field(default_factory=dict)


ALERT_SCENARIOS: Final[tuple[str, ...]] = ("healthy", "incident")


@dataclass(frozen=True)
class Contract:
    """The whole contract file."""

    scrape: ScrapeSpec
    requests: MetricSpec
    latency: MetricSpec
    tokens: MetricSpec
    errors: MetricSpec
    token_types: tuple[str, ...]
    # The share of requests answered from the cache (a gauge), when the backend has one.
    cache_hit_rate: MetricSpec | None = None
    # Every family the contract names, by role: the four above, the gauge, and any other
    # (the HTTP metrics): each series of each carries exactly its labels (checks/labels.py).
    families: Mapping[str, MetricSpec] = field(default_factory=dict)
    # Label name -> the values it may take, for every family that carries it.
    vocabulary: Mapping[str, LabelRule] = field(default_factory=dict)
    # Stub fault -> the error_type and reason_code the errors counter must count it under.
    faults: Mapping[str, FaultSpec] = field(default_factory=dict)
    cache: CacheSpec = field(default_factory=CacheSpec)
    status_success: str = "success"
    status_error: str = "error"
    failures: FailureAccounting = field(default_factory=FailureAccounting)
    series_budget_default: int = 200
    series_budget: Mapping[str, int] = field(default_factory=dict)
    allow_empty_panels: Mapping[str, str] = field(default_factory=dict)
    alerts: AlertExpectations = field(default_factory=AlertExpectations)
    source: str = ""

    @property
    def errors_recorded(self) -> bool:
        """Whether the errors counter exists (the old `errors_recorded` field)."""
        return self.failures.error_counter

    def __repr__(self) -> str:
        # One line in a traceback; the expectations are in the file it names.
        return f"Contract({self.source or 'defaults'})"

    def budget_for(self, metric: str) -> int:
        """How many series `metric` may have in one run before labels count as unbounded."""
        return self.series_budget.get(metric, self.series_budget_default)


_TOP = {
    "description",
    "scrape",
    "metrics",
    "token_types",
    "statuses",
    "errors_recorded",
    "failures",
    "series_budget",
    "dashboards",
    "vocabulary",
    "faults",
    "cache",
    "alerts",
}
_METRIC_ROLES = {"requests", "latency", "tokens", "errors"}
# A role beyond the four the suite counts: checked for its labels and values only.
_EXTRA_ROLE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_METRIC_FIELDS = {"name", "type", "labels", "optional_labels", "buckets", "unit", "definition"}
# What a cache-hit-rate gauge can mean: hits over all assistant requests since start.
GAUGE_DEFINITIONS: Final[tuple[str, ...]] = ("hits_over_requests",)
# The latency histogram's units, in milliseconds.
LATENCY_UNITS: Final[Mapping[str, float]] = {"ms": 1.0, "s": 1000.0}
_SCRAPE_FIELDS = {"job", "instance", "metrics_path", "component", "remote_write_component"}
_METRIC_TYPES = {"counter", "gauge", "histogram", "summary"}


def _object(value: Any, where: str, allowed: set[str], source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigurationError(f"{source}: `{where}` must be an object.")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise ConfigurationError(
            f"{source}: unknown field `{where}.{unknown[0]}`"
            if where
            else f"{source}: unknown field `{unknown[0]}`"
        )
    return value


def _strings(value: Any, where: str, source: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigurationError(f"{source}: `{where}` must be a list of non-empty strings.")
    return tuple(value)


def _metric(role: str, value: Any, source: str) -> MetricSpec:
    spec = _object(value, f"metrics.{role}", _METRIC_FIELDS, source)
    for required in ("name", "type", "labels"):
        if required not in spec:
            raise ConfigurationError(f"{source}: `metrics.{role}.{required}` is missing.")
    if spec["type"] not in _METRIC_TYPES:
        raise ConfigurationError(
            f"{source}: `metrics.{role}.type` is {spec['type']!r}; use one of "
            + ", ".join(sorted(_METRIC_TYPES))
            + "."
        )
    buckets = spec.get("buckets", [])
    if not isinstance(buckets, list) or not all(isinstance(b, int | float) for b in buckets):
        raise ConfigurationError(f"{source}: `metrics.{role}.buckets` must be a list of numbers.")
    return MetricSpec(
        name=str(spec["name"]),
        type=str(spec["type"]),
        labels=_strings(spec["labels"], f"metrics.{role}.labels", source),
        buckets=tuple(float(b) for b in buckets),
        unit=_unit(role, spec, source),
        optional_labels=_strings(
            spec.get("optional_labels", []), f"metrics.{role}.optional_labels", source
        ),
        definition=_definition(role, spec, source),
    )


def _definition(role: str, spec: dict[str, Any], source: str) -> str:
    """What the cache-hit-rate gauge means; only that role has (and needs) one."""
    definition = spec.get("definition")
    if role != "cache_hit_rate":
        if definition is not None:
            raise ConfigurationError(
                f"{source}: `metrics.{role}.definition` is not a field of this metric (only "
                "`metrics.cache_hit_rate` has a definition)."
            )
        return ""
    if spec["type"] != "gauge":
        raise ConfigurationError(f"{source}: `metrics.cache_hit_rate.type` must be gauge.")
    if definition not in GAUGE_DEFINITIONS:
        raise ConfigurationError(
            f"{source}: `metrics.cache_hit_rate.definition` is {definition!r}; use "
            + " or ".join(GAUGE_DEFINITIONS)
            + " (the share of requests answered from the cache since the backend started)."
        )
    return str(definition)


def _vocabulary(value: Any, source: str) -> dict[str, LabelRule]:
    """Label name -> LabelRule; a malformed entry or pattern is named with its key."""
    if not isinstance(value, dict):
        raise ConfigurationError(f"{source}: `vocabulary` must be an object.")
    rules: dict[str, LabelRule] = {}
    for label, entry in value.items():
        where = f"vocabulary.{label}"
        spec = _object(entry, where, {"values", "pattern"}, source)
        if not spec:
            raise ConfigurationError(f"{source}: `{where}` needs `values`, `pattern` or both.")
        values = _strings(spec["values"], f"{where}.values", source) if "values" in spec else ()
        pattern = None
        if "pattern" in spec:
            raw = spec["pattern"]
            if not isinstance(raw, str) or not raw:
                raise ConfigurationError(f"{source}: `{where}.pattern` must be a non-empty string.")
            try:
                pattern = re.compile(raw)
            except re.error as exc:
                raise ConfigurationError(
                    f"{source}: `{where}.pattern` is not a regular expression: {raw!r} "
                    f"({exc.msg} at position {exc.pos})."
                ) from None
        rules[str(label)] = LabelRule(values=values, pattern=pattern)
    return rules


def _faults(value: Any, source: str) -> dict[str, FaultSpec]:
    """Stub fault -> FaultSpec; a fault the stub cannot inject is named."""
    entries = _object(value, "faults", set(STUB_FAULTS), source)
    faults: dict[str, FaultSpec] = {}
    for fault, entry in entries.items():
        where = f"faults.{fault}"
        spec = _object(entry, where, {"error_type", "reason_code"}, source)
        for key in ("error_type", "reason_code"):
            if not isinstance(spec.get(key), str) or not spec[key]:
                raise ConfigurationError(f"{source}: `{where}.{key}` must be a non-empty string.")
        faults[str(fault)] = FaultSpec(spec["error_type"], spec["reason_code"])
    return faults


def _cache(value: Any, source: str) -> CacheSpec:
    spec = _object(value, "cache", {"label", "hit", "miss", "repeats"}, source)
    for key in ("label", "hit", "miss"):
        if key in spec and (not isinstance(spec[key], str) or not spec[key]):
            raise ConfigurationError(f"{source}: `cache.{key}` must be a non-empty string.")
    repeats = spec.get("repeats", CacheSpec.repeats)
    if not isinstance(repeats, int) or isinstance(repeats, bool) or not 0 <= repeats <= 20:
        raise ConfigurationError(
            f"{source}: `cache.repeats` is {repeats!r}; give a whole number from 0 (no cache) "
            "to 20."
        )
    return CacheSpec(
        label=spec.get("label", CacheSpec.label),
        hit=spec.get("hit", CacheSpec.hit),
        miss=spec.get("miss", CacheSpec.miss),
        repeats=repeats,
    )


def _unit(role: str, spec: dict[str, Any], source: str) -> str:
    """The latency histogram's unit: given, or read from the name's `_ms` / `_seconds`.

    The suite injects known delays and checks where they land, so the unit must be known:
    a name that says neither needs `unit`. Other metrics have none.
    """
    if role != "latency":
        if "unit" in spec:
            raise ConfigurationError(
                f"{source}: `metrics.{role}.unit` is not a field of this metric (only "
                "`metrics.latency` has a unit)."
            )
        return ""
    name = str(spec["name"])
    unit = spec.get("unit")
    if unit is None:
        if name.endswith(("_ms", "_milliseconds")):
            return "ms"
        if name.endswith("_seconds"):
            return "s"
        raise ConfigurationError(
            f"{source}: `metrics.latency.unit` is missing and the name {name!r} does not end "
            'in _ms or _seconds; give "unit": "ms" or "s".'
        )
    if unit not in LATENCY_UNITS:
        raise ConfigurationError(
            f"{source}: `metrics.latency.unit` is {unit!r}; use " + " or ".join(LATENCY_UNITS) + "."
        )
    return str(unit)


def _failures(top: dict[str, Any], source: str) -> FailureAccounting:
    # `errors_recorded: false` (the older field) means what `error_counter: false` says.
    if "errors_recorded" in top and "failures" in top:
        raise ConfigurationError(
            f"{source}: give `failures` or the older `errors_recorded`, not both "
            "(`errors_recorded: false` is `failures.error_counter: false`)."
        )
    if "errors_recorded" in top:
        if not isinstance(top["errors_recorded"], bool):
            raise ConfigurationError(f"{source}: `errors_recorded` must be true or false.")
        return FailureAccounting(error_counter=top["errors_recorded"])
    spec = _object(top.get("failures", {}), "failures", {"recorded_as", "error_counter"}, source)
    recorded_as = spec.get("recorded_as", "error")
    if recorded_as not in RECORDED_AS:
        raise ConfigurationError(
            f"{source}: `failures.recorded_as` is {recorded_as!r}; use one of "
            + ", ".join(RECORDED_AS)
            + "."
        )
    error_counter = spec.get("error_counter", True)
    if not isinstance(error_counter, bool):
        raise ConfigurationError(f"{source}: `failures.error_counter` must be true or false.")
    return FailureAccounting(recorded_as=cast(RecordedAs, recorded_as), error_counter=error_counter)


def _alerts(top: dict[str, Any], source: str) -> AlertExpectations:
    spec = _object(top.get("alerts", {}), "alerts", {"must_fire", "allowed_on_healthy"}, source)
    must_fire = _object(spec.get("must_fire", {}), "alerts.must_fire", set(ALERT_SCENARIOS), source)
    allowed = spec.get("allowed_on_healthy", {})
    if not isinstance(allowed, dict) or not all(
        isinstance(v, str) and v.strip() for v in allowed.values()
    ):
        raise ConfigurationError(
            f"{source}: `alerts.allowed_on_healthy` maps rule names to a non-empty reason."
        )
    return AlertExpectations(
        must_fire={
            scenario: _strings(names, f"alerts.must_fire.{scenario}", source)
            for scenario, names in must_fire.items()
        },
        allowed_on_healthy=dict(allowed),
    )


def parse_contract(data: Any, source: str = "contract") -> Contract:
    """Build a Contract from decoded JSON; raises ConfigurationError naming any bad field."""
    top = _object(data, "", _TOP, source)
    raw_metrics = top.get("metrics", {})
    # Beyond the four the suite counts, any family may be named (for its labels and values).
    roles = (
        {str(role) for role in raw_metrics if _EXTRA_ROLE.match(str(role))}
        if isinstance(raw_metrics, dict)
        else set()
    )
    metrics = _object(raw_metrics, "metrics", roles, source)
    missing = sorted(_METRIC_ROLES - set(metrics))
    if missing:
        raise ConfigurationError(f"{source}: `metrics.{missing[0]}` is missing.")
    families = {role: _metric(role, spec, source) for role, spec in metrics.items()}
    scrape = _object(top.get("scrape", {}), "scrape", _SCRAPE_FIELDS, source)
    statuses = _object(top.get("statuses", {}), "statuses", {"success", "error"}, source)
    budget = _object(
        top.get("series_budget", {}), "series_budget", {"default", "per_metric"}, source
    )
    per_metric = budget.get("per_metric", {})
    if not isinstance(per_metric, dict) or not all(
        isinstance(v, int) and v > 0 for v in per_metric.values()
    ):
        raise ConfigurationError(
            f"{source}: `series_budget.per_metric` maps metric names to positive integers."
        )
    dashboards = _object(top.get("dashboards", {}), "dashboards", {"allow_empty"}, source)
    allow_empty = dashboards.get("allow_empty", {})
    if not isinstance(allow_empty, dict) or not all(
        isinstance(v, str) and v.strip() for v in allow_empty.values()
    ):
        raise ConfigurationError(
            f"{source}: `dashboards.allow_empty` maps panel titles to a non-empty reason."
        )
    failures = _failures(top, source)
    return Contract(
        scrape=ScrapeSpec(**{k: str(v) for k, v in scrape.items()}),
        requests=families["requests"],
        latency=families["latency"],
        tokens=families["tokens"],
        errors=families["errors"],
        cache_hit_rate=families.get("cache_hit_rate"),
        families=families,
        vocabulary=_vocabulary(top.get("vocabulary", {}), source),
        faults=_faults(top.get("faults", {}), source),
        cache=_cache(top.get("cache", {}), source),
        token_types=_strings(top.get("token_types", []), "token_types", source),
        status_success=str(statuses.get("success", "success")),
        status_error=str(statuses.get("error", "error")),
        failures=failures,
        series_budget_default=int(budget.get("default", 200)),
        series_budget=dict(per_metric),
        allow_empty_panels=dict(allow_empty),
        alerts=_alerts(top, source),
        source=source,
    )


def load_contract(path: Path) -> Contract:
    """Read and validate a contract file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read the contract file {path}: {exc.strerror}.") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"the contract file {path} is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}."
        ) from None
    return parse_contract(data, source=str(path))
