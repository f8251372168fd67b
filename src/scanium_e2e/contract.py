"""Expectations as data: the metric names, labels and token types the suite checks.

The default contract file (fixtures/contract.json) describes the Scanium backend; a team
adapts the suite to its own backend by pointing SCANIUM_E2E_CONTRACT (or --scanium-contract) at a
copy. Parsing is strict: an unknown or misspelt field is an error that names it, because a
silently ignored expectation is a check that cannot fail. The file's shape is declared as
pydantic models; every problem they find is reported in one paragraph, each naming its key
path and what is wrong in the contract's own words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

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
    # The failure classes (FAILURE_CLASSES) some rule must notice, and those that need not
    # page, each with why: every class is one or the other (alerts/coverage.py).
    must_page: tuple[str, ...] = ()
    need_not_page: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.must_page and not self.need_not_page:
            object.__setattr__(self, "must_page", DEFAULT_MUST_PAGE)


ALERT_SCENARIOS: Final[tuple[str, ...]] = ("healthy", "incident")
# The classes of failure the mutation harness produces, each a kind of broken pipeline an
# alert rule may notice (alerts/coverage.py judges which rules tell each apart from health).
FAILURE_CLASSES: Final[Mapping[str, str]] = {
    "scrape": "the backend's scrape fails or is lost: /metrics refused or too slow, the "
    "scrape under another job",
    "remote-write": "Alloy's remote write to the store fails",
    "store-rejects": "the store refuses the pipeline's samples",
    "dashboard-empty": "a metric the dashboards query is never written: its panels show No data",
    "otlp-road": "nothing the backend pushes over OTLP reaches the store",
    "accounting": "the metrics flow but count, label or bucket wrong",
    "leak": "a secret or an unbounded value in labels, /metrics or logs",
    "http-policy": "the backend's HTTP policy differs from the contract: HTTPS, "
    "authentication, validation, probes",
    "dashboard-query": "a dashboard's query is wrong while its data is there",
}
# Without a `pages` section: the seed incident's kind and the hops after it must page.
DEFAULT_MUST_PAGE: Final[tuple[str, ...]] = (
    "scrape",
    "remote-write",
    "store-rejects",
    "dashboard-empty",
)


@dataclass(frozen=True)
class HttpRoute:
    """How the backend labels one kind of the ledger's requests in its HTTP metrics."""

    method: str
    route: str


@dataclass(frozen=True)
class HttpSpec:
    """The HTTP layer against the ledger (the `http_requests`/`http_duration` families):
    the method and route template the backend labels each of the ledger's requests with
    (`chat`: every chat request; `unknown`: every request to a path no route serves, one
    value for all of them), and the routes others request (scrapes, probes) whose counts
    are not the ledger's."""

    chat: HttpRoute
    unknown: HttpRoute
    others: tuple[str, ...] = ()


# The OTLP families the suite counts against the ledger (`otlp.metrics`), and the span
# metrics (`otlp.spans`): roles as the checks name them.
OTLP_METRIC_ROLES: Final[tuple[str, ...]] = (
    "requests",
    "duration",
    "tokens",
    "rate_limit_requests",
    "rate_limit_tokens",
)
SPAN_METRIC_ROLES: Final[tuple[str, ...]] = ("span_calls", "span_duration")
# What a chat request's span status says, by how the request ended.
SpanOutcome = Literal["reply", "llm_failure", "refused"]
SPAN_OUTCOMES: Final[tuple[str, ...]] = get_args(SpanOutcome)


@dataclass(frozen=True)
class PushedSpec:
    """How the backend records an OTLP family: the instrument's name and unit before
    Alloy's `otelcol.exporter.prometheus` translates them into the stored name."""

    instrument: str = ""
    unit: str = ""


@dataclass(frozen=True)
class SpanSpec:
    """The span the backend makes for each chat request, as the span-metrics connector
    counts it: its name, kind, and the status each outcome gives it."""

    name: str
    kind: str
    status: Mapping[str, str]


@dataclass(frozen=True)
class OtlpSpec:
    """The OTLP road (contract section 6): what the backend pushes to Alloy's
    `otelcol.receiver.otlp`, and how the store holds it.

    `families` maps a role (`OTLP_METRIC_ROLES`, `SPAN_METRIC_ROLES`) to its stored
    family; `pushed` maps a metric role to its instrument. Resource attributes become `job`
    (service.name) and `instance` (service.instance.id); the rest go to `target_info`
    only, as its `target_info` labels. `scope_labels` are the labels the exporter adds
    from the instrumentation scope to every series (none: it adds none). `vocabulary`
    gives the values of the OTLP labels (a label it does not list follows the contract's
    main vocabulary).
    """

    receiver: str
    job: str
    instance: str
    temporality: str
    families: Mapping[str, MetricSpec]
    pushed: Mapping[str, PushedSpec] = field(default_factory=dict)
    target_info: tuple[str, ...] = ()
    scope_labels: tuple[str, ...] = ()
    vocabulary: Mapping[str, LabelRule] = field(default_factory=dict)
    spans: SpanSpec | None = None
    # Per rate-limit gauge role, the `limit_type` its one series carries.
    limit_types: Mapping[str, str] = field(default_factory=dict)


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
    # The OTLP road, when the backend pushes one (None: it exposes /metrics only).
    otlp: OtlpSpec | None = None
    # The HTTP layer counted against the ledger (None: judged for its labels only).
    http: HttpSpec | None = None
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


# --- the file's schema ---------------------------------------------------------------------
# pydantic models of the JSON as written; `parse_contract` turns them into the dataclasses
# above. A constraint that fails says so in the contract's words (`_says`, `_problem`), so the
# exit-4 message names the key path and what is wrong, never pydantic's wording of it.

# A role beyond the four the suite counts: checked for its labels and values only.
_EXTRA_ROLE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# What a cache-hit-rate gauge can mean: hits over all assistant requests since start.
GAUGE_DEFINITIONS: Final[tuple[str, ...]] = ("hits_over_requests",)
# The latency histogram's units, in milliseconds.
LatencyUnit = Literal["ms", "s"]
LATENCY_UNITS: Final[Mapping[str, float]] = {"ms": 1.0, "s": 1000.0}
MetricType = Literal["counter", "gauge", "histogram", "summary"]
METRIC_TYPES: Final[tuple[str, ...]] = get_args(MetricType)

# How a problem's sentence is put together with its key path (see `_sentence`).
_AFTER_PATH = "after_path"  # "`metrics.requests.type` is 'x'; use one of ..."
_UNKNOWN = "unknown"  # "unknown field `metrics.requests.lables`"
_WHOLE = "whole"  # a sentence that names its keys itself


def _problem(phrase: str, *, key: str = "", form: str = _AFTER_PATH) -> PydanticCustomError:
    """A validation error carrying the contract's own sentence; `key` extends its path."""
    return PydanticCustomError("contract", "{phrase}", {"phrase": phrase, "key": key, "form": form})


def _says(phrase: str) -> WrapValidator:
    """Replace any failure of the annotated type by `phrase` (which may quote `{input!r}`).

    Used where one sentence says what the whole value must be ("a list of non-empty
    strings"), rather than which item of it pydantic stumbled on first.
    """

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise _problem(phrase.format(input=value)) from None

    return WrapValidator(validate)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("blank")
    return value


def _keys_among(allowed: Collection[str]) -> BeforeValidator:
    """Refuse an object key outside `allowed`, naming it as an unknown field."""

    def check(value: Any) -> Any:
        if isinstance(value, dict):
            unknown = sorted(str(key) for key in value if key not in allowed)
            if unknown:
                raise _problem("", key=unknown[0], form=_UNKNOWN)
        return value

    return BeforeValidator(check)


def _not_here(phrase: str) -> BeforeValidator:
    """Refuse a field that exists only on another role, saying which role has it."""

    def refuse(value: Any) -> Any:
        raise _problem(phrase)

    return BeforeValidator(refuse)


def _not_null(phrase: str = "must not be null.") -> BeforeValidator:
    """Refuse an explicit JSON null where leaving the key out is how to say "none"."""

    def refuse(value: Any) -> Any:
        if value is None:
            raise _problem(phrase)
        return value

    return BeforeValidator(refuse)


def _compiles(value: str | None) -> str | None:
    if value is None:
        return value
    try:
        re.compile(value)
    except re.error as exc:
        raise _problem(
            f"is not a regular expression: {value!r} ({exc.msg} at position {exc.pos})."
        ) from None
    return value


_Text = Annotated[str, Field(min_length=1), _says("must be a non-empty string.")]
_NameList = list[Annotated[str, Field(min_length=1)]]
_NAMES = _says("must be a list of non-empty strings.")
_Names = Annotated[_NameList, _NAMES]
_Numbers = Annotated[list[float], _says("must be a list of numbers.")]
_FLAG = _says("must be true or false.")
_Flag = Annotated[bool, _FLAG]
_Reason = Annotated[str, AfterValidator(_not_blank)]
_Type = Annotated[
    MetricType, _says("is {input!r}; use one of " + ", ".join(sorted(METRIC_TYPES)) + ".")
]
_Unit = Annotated[
    LatencyUnit, _says("is {input!r}; use " + " or ".join(get_args(LatencyUnit)) + ".")
]


class _Schema(BaseModel):
    # Strict: a JSON string is not a number, nor 1 a boolean; an unknown key is an error,
    # because a silently ignored expectation is a check that cannot fail.
    model_config = ConfigDict(extra="forbid", strict=True)


class _Metric(_Schema):
    name: _Text
    type: _Type
    labels: _Names
    optional_labels: _Names = []
    buckets: _Numbers = []
    unit: Annotated[
        object, _not_here("is not a field of this metric (only `metrics.latency` has a unit).")
    ] = None
    definition: Annotated[
        object,
        _not_here(
            "is not a field of this metric (only `metrics.cache_hit_rate` has a definition)."
        ),
    ] = None


class _Latency(_Metric):
    unit: _Unit | None = None

    @model_validator(mode="after")
    def _known_unit(self) -> _Latency:
        """The suite injects known delays and checks where they land, so the unit must be
        known: given, or read from a name ending in `_ms` / `_seconds`."""
        if self.unit is None:
            if self.name.endswith(("_ms", "_milliseconds")):
                self.unit = "ms"
            elif self.name.endswith("_seconds"):
                self.unit = "s"
            else:
                raise _problem(
                    f"is missing and the name {self.name!r} does not end in _ms or _seconds; "
                    'give "unit": "ms" or "s".',
                    key="unit",
                )
        return self


class _Gauge(_Metric):
    definition: object = None

    @model_validator(mode="after")
    def _defined(self) -> _Gauge:
        """A cache-hit-rate gauge is judged by what it means, so it must say."""
        if self.type != "gauge":
            raise _problem("must be gauge.", key="type")
        if self.definition not in GAUGE_DEFINITIONS:
            raise _problem(
                f"is {self.definition!r}; use "
                + " or ".join(GAUGE_DEFINITIONS)
                + " (the share of requests answered from the cache since the backend started).",
                key="definition",
            )
        return self


class _Metrics(BaseModel):
    # Beyond the four the suite counts (and the gauge), any family may be named, for its
    # labels and values; such a role is validated as a plain metric.
    model_config = ConfigDict(extra="allow", strict=True)
    __pydantic_extra__: dict[str, _Metric] = Field(init=False)

    requests: _Metric
    latency: _Latency
    tokens: _Metric
    errors: _Metric
    cache_hit_rate: Annotated[_Gauge | None, _not_null("must be an object.")] = None

    @model_validator(mode="before")
    @classmethod
    def _role_names(cls, data: Any) -> Any:
        if isinstance(data, dict):
            odd = sorted(
                str(role)
                for role in data
                if role not in cls.model_fields and not _EXTRA_ROLE.match(str(role))
            )
            if odd:
                raise _problem("", key=odd[0], form=_UNKNOWN)
        return data


class _Scrape(_Schema):
    job: _Text = ScrapeSpec.job
    instance: _Text = ScrapeSpec.instance
    metrics_path: _Text = ScrapeSpec.metrics_path
    component: _Text = ScrapeSpec.component
    remote_write_component: _Text = ScrapeSpec.remote_write_component


class _LabelRule(_Schema):
    values: Annotated[_NameList | None, _not_null(), _NAMES] = None
    pattern: Annotated[
        Annotated[str, Field(min_length=1)] | None,
        _not_null(),
        _says("must be a non-empty string."),
        AfterValidator(_compiles),
    ] = None

    @model_validator(mode="after")
    def _says_something(self) -> _LabelRule:
        if not self.model_fields_set:
            raise _problem("needs `values`, `pattern` or both.")
        return self


class _Fault(_Schema):
    error_type: _Text
    reason_code: _Text

    @model_validator(mode="before")
    @classmethod
    def _absent_is_empty(cls, data: Any) -> Any:
        """A missing label reads like an empty one: "must be a non-empty string"."""
        if isinstance(data, dict):
            return {"error_type": None, "reason_code": None, **data}
        return data


class _Cache(_Schema):
    label: _Text = CacheSpec.label
    hit: _Text = CacheSpec.hit
    miss: _Text = CacheSpec.miss
    repeats: Annotated[
        int,
        Field(ge=0, le=20),
        _says("is {input!r}; give a whole number from 0 (no cache) to 20."),
    ] = CacheSpec.repeats


class _Statuses(_Schema):
    success: _Text = Contract.status_success
    error: _Text = Contract.status_error


class _Failures(_Schema):
    recorded_as: Annotated[
        RecordedAs, _says("is {input!r}; use one of " + ", ".join(RECORDED_AS) + ".")
    ] = FailureAccounting.recorded_as
    error_counter: _Flag = FailureAccounting.error_counter


class _SeriesBudget(_Schema):
    default: Annotated[int, Field(gt=0), _says("must be a positive whole number.")] = (
        Contract.series_budget_default
    )
    per_metric: Annotated[
        dict[str, Annotated[int, Field(gt=0)]],
        _says("maps metric names to positive integers."),
    ] = {}


class _Dashboards(_Schema):
    allow_empty: Annotated[
        dict[str, _Reason], _says("maps panel titles to a non-empty reason.")
    ] = {}


def _among_classes(value: list[str]) -> list[str]:
    unknown = [name for name in value if name not in FAILURE_CLASSES]
    if unknown:
        raise _problem(
            f"names {unknown[0]!r}, no failure class; use " + ", ".join(FAILURE_CLASSES) + "."
        )
    return value


class _Pages(_Schema):
    must: Annotated[_Names, AfterValidator(_among_classes)] = list(DEFAULT_MUST_PAGE)
    need_not: Annotated[
        dict[str, _Reason],
        _says("maps failure classes to a non-empty reason."),
        _keys_among(FAILURE_CLASSES),
    ] = {}

    @model_validator(mode="after")
    def _one_or_the_other(self) -> _Pages:
        both = sorted(set(self.must) & set(self.need_not))
        if both:
            raise _problem(f"lists {both[0]!r} in both `must` and `need_not`: choose one.")
        return self


class _Alerts(_Schema):
    must_fire: Annotated[dict[str, _Names], _keys_among(ALERT_SCENARIOS)] = {}
    allowed_on_healthy: Annotated[
        dict[str, _Reason], _says("maps rule names to a non-empty reason.")
    ] = {}
    pages: _Pages = _Pages()


class _OtlpMetric(_Schema):
    name: _Text
    type: _Type
    labels: _Names
    optional_labels: _Names = []
    buckets: _Numbers = []
    # The instrument as the backend records it (before the exporter's name translation).
    instrument: _Text | None = None
    unit: Annotated[str, _says("must be a string (an OpenTelemetry unit such as 1, s, ms).")] = ""
    # A rate-limit gauge's `limit_type`.
    limit: _Text | None = None


class _OtlpMetrics(_Schema):
    requests: _OtlpMetric
    duration: _OtlpMetric
    tokens: _OtlpMetric
    rate_limit_requests: _OtlpMetric | None = None
    rate_limit_tokens: _OtlpMetric | None = None


class _Spans(_Schema):
    name: _Text
    kind: _Text
    status: Annotated[dict[str, _Text], _keys_among(SPAN_OUTCOMES)]
    calls: _OtlpMetric
    duration: _OtlpMetric | None = None

    @model_validator(mode="after")
    def _every_outcome(self) -> _Spans:
        missing = [outcome for outcome in SPAN_OUTCOMES if outcome not in self.status]
        if missing:
            raise _problem(
                f"needs the span status of every outcome ({', '.join(SPAN_OUTCOMES)}); "
                f"missing: {', '.join(missing)}.",
                key="status",
            )
        return self


class _Otlp(_Schema):
    receiver: _Text = "otelcol.receiver.otlp.backend_http"
    job: _Text = ScrapeSpec.job
    instance: _Text = ScrapeSpec.instance
    temporality: Annotated[
        Literal["cumulative"],
        _says(
            "is {input!r}; use cumulative (Alloy's otelcol.exporter.prometheus drops "
            "delta-temporality sums and histograms)."
        ),
    ] = "cumulative"
    target_info: _Names = []
    scope_labels: _Names = []
    metrics: _OtlpMetrics
    spans: _Spans | None = None
    vocabulary: dict[str, _LabelRule] = {}


class _HttpRoute(_Schema):
    method: _Text
    route: _Text


class _HttpRoutes(_Schema):
    chat: _HttpRoute
    unknown: _HttpRoute


class _Http(_Schema):
    routes: _HttpRoutes
    others: _Names = []


class _ContractFile(_Schema):
    description: object = None
    scrape: _Scrape = _Scrape()
    metrics: _Metrics
    token_types: _Names = []
    statuses: _Statuses = _Statuses()
    # `errors_recorded: false` (the older field) means what `failures.error_counter: false` says.
    errors_recorded: Annotated[bool | None, _not_null(), _FLAG] = None
    failures: _Failures = _Failures()
    series_budget: _SeriesBudget = _SeriesBudget()
    dashboards: _Dashboards = _Dashboards()
    vocabulary: dict[str, _LabelRule] = {}
    faults: Annotated[dict[str, _Fault], _keys_among(STUB_FAULTS)] = {}
    cache: _Cache = _Cache()
    alerts: _Alerts = _Alerts()
    otlp: Annotated[_Otlp | None, _not_null("must be an object.")] = None
    http: Annotated[_Http | None, _not_null("must be an object.")] = None

    @model_validator(mode="after")
    def _one_failure_accounting(self) -> _ContractFile:
        if {"errors_recorded", "failures"} <= self.model_fields_set:
            raise _problem(
                "give `failures` or the older `errors_recorded`, not both "
                "(`errors_recorded: false` is `failures.error_counter: false`).",
                form=_WHOLE,
            )
        return self


# Sentences for pydantic's own error types, where no `_says` replaced them.
_PHRASES: Final[Mapping[str, str]] = {
    "missing": "is missing.",
    "model_type": "must be an object.",
    "model_attributes_type": "must be an object.",
    "dict_type": "must be an object.",
    "string_type": "must be a non-empty string.",
    "string_too_short": "must be a non-empty string.",
    "bool_type": "must be true or false.",
    "int_type": "must be a whole number.",
    "float_type": "must be a number.",
    "list_type": "must be a list.",
}


def _sentence(error: ErrorDetails) -> str:
    """One problem, as `parse_contract` reports it (without the file's name)."""
    ctx = error.get("ctx") or {}
    loc = [*error["loc"], *([ctx["key"]] if ctx.get("key") else [])]
    path = ".".join(str(part) for part in loc)
    if error["type"] == "contract":
        phrase, form = str(ctx["phrase"]), ctx["form"]
    else:
        phrase = _PHRASES.get(error["type"], f"is not valid: {error['msg']}.")
        form = _UNKNOWN if error["type"] == "extra_forbidden" else _AFTER_PATH
    if form == _UNKNOWN:
        return f"unknown field `{path}`"
    if form == _WHOLE:
        return phrase
    if not path:
        return f"the top level {phrase}"
    return f"`{path}` {phrase}"


def _build_metric(spec: _Metric) -> MetricSpec:
    return MetricSpec(
        name=spec.name,
        type=spec.type,
        labels=tuple(spec.labels),
        buckets=tuple(float(bound) for bound in spec.buckets),
        unit=str(spec.unit) if isinstance(spec, _Latency) else "",
        optional_labels=tuple(spec.optional_labels),
        definition=str(spec.definition) if isinstance(spec, _Gauge) else "",
    )


def _build_rules(rules: Mapping[str, _LabelRule]) -> dict[str, LabelRule]:
    return {
        label: LabelRule(
            values=tuple(rule.values or ()),
            pattern=re.compile(rule.pattern) if rule.pattern is not None else None,
        )
        for label, rule in rules.items()
    }


def _otlp_family(spec: _OtlpMetric) -> MetricSpec:
    return MetricSpec(
        name=spec.name,
        type=spec.type,
        labels=tuple(spec.labels),
        buckets=tuple(float(bound) for bound in spec.buckets),
        optional_labels=tuple(spec.optional_labels),
    )


def _build_otlp(otlp: _Otlp) -> OtlpSpec:
    metrics = {
        role: spec
        for role in OTLP_METRIC_ROLES
        if (spec := getattr(otlp.metrics, role)) is not None
    }
    families = {role: _otlp_family(spec) for role, spec in metrics.items()}
    spans = None
    if otlp.spans is not None:
        spans = SpanSpec(otlp.spans.name, otlp.spans.kind, dict(otlp.spans.status))
        families["span_calls"] = _otlp_family(otlp.spans.calls)
        if otlp.spans.duration is not None:
            families["span_duration"] = _otlp_family(otlp.spans.duration)
    return OtlpSpec(
        receiver=otlp.receiver,
        job=otlp.job,
        instance=otlp.instance,
        temporality=otlp.temporality,
        families=families,
        pushed={
            role: PushedSpec(spec.instrument or spec.name, spec.unit)
            for role, spec in metrics.items()
        },
        target_info=tuple(otlp.target_info),
        scope_labels=tuple(otlp.scope_labels),
        vocabulary=_build_rules(otlp.vocabulary),
        spans=spans,
        limit_types={role: spec.limit for role, spec in metrics.items() if spec.limit},
    )


def parse_contract(data: Any, source: str = "contract") -> Contract:
    """Build a Contract from decoded JSON; raises ConfigurationError naming any bad field.

    Every problem pydantic finds is named, key path first, in one paragraph.
    """
    try:
        parsed = _ContractFile.model_validate(data)
    except ValidationError as exc:
        problems = list(dict.fromkeys(_sentence(error) for error in exc.errors(include_url=False)))
        text = (
            problems[0]
            if len(problems) == 1
            else "; ".join(problem.removesuffix(".") for problem in problems) + "."
        )
        raise ConfigurationError(f"{source}: {text}") from None
    # Iterating a model yields its fields, then the extra roles.
    given = {role: spec for role, spec in parsed.metrics if isinstance(spec, _Metric)}
    # The families keep the file's order (the closed world's tests are listed in it).
    families = {role: _build_metric(given[role]) for role in data["metrics"]}
    failures = (
        FailureAccounting(error_counter=parsed.errors_recorded)
        if parsed.errors_recorded is not None
        else FailureAccounting(
            recorded_as=parsed.failures.recorded_as,
            error_counter=parsed.failures.error_counter,
        )
    )
    return Contract(
        scrape=ScrapeSpec(**parsed.scrape.model_dump()),
        requests=families["requests"],
        latency=families["latency"],
        tokens=families["tokens"],
        errors=families["errors"],
        cache_hit_rate=families.get("cache_hit_rate"),
        families=families,
        vocabulary=_build_rules(parsed.vocabulary),
        faults={
            fault: FaultSpec(spec.error_type, spec.reason_code)
            for fault, spec in parsed.faults.items()
        },
        cache=CacheSpec(**parsed.cache.model_dump()),
        token_types=tuple(parsed.token_types),
        status_success=parsed.statuses.success,
        status_error=parsed.statuses.error,
        failures=failures,
        series_budget_default=parsed.series_budget.default,
        series_budget=dict(parsed.series_budget.per_metric),
        allow_empty_panels=dict(parsed.dashboards.allow_empty),
        alerts=AlertExpectations(
            must_fire={
                scenario: tuple(names) for scenario, names in parsed.alerts.must_fire.items()
            },
            allowed_on_healthy=dict(parsed.alerts.allowed_on_healthy),
            must_page=tuple(parsed.alerts.pages.must),
            need_not_page=dict(parsed.alerts.pages.need_not),
        ),
        otlp=_build_otlp(parsed.otlp) if parsed.otlp is not None else None,
        http=HttpSpec(
            chat=HttpRoute(parsed.http.routes.chat.method, parsed.http.routes.chat.route),
            unknown=HttpRoute(parsed.http.routes.unknown.method, parsed.http.routes.unknown.route),
            others=tuple(parsed.http.others),
        )
        if parsed.http is not None
        else None,
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
