"""The families the backend exposes on /metrics (`metrics`), and how Alloy scrapes them
(`scrape`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    SkipValidation,
    model_validator,
)

from scanium_e2e.contract.fields import Names, Numbers, Section, Text
from scanium_e2e.contract.problems import UNKNOWN, not_here, not_null, problem, says

# The job and instance Alloy's scrape gives the backend's series (and the OTLP road's
# resource, unless the contract says otherwise).
BACKEND: Final = "scanium-backend"


class ScrapeSpec(Section):
    """How Alloy scrapes the backend, as the series in Mimir show it."""

    job: Text = BACKEND
    instance: Text = BACKEND
    metrics_path: Text = "/metrics"
    component: Text = "prometheus.scrape.backend"
    remote_write_component: Text = "prometheus.remote_write.mimir"


MetricType = Literal["counter", "gauge", "histogram", "summary"]
METRIC_TYPES: Final[tuple[str, ...]] = get_args(MetricType)
# The latency histogram's units, in milliseconds.
LatencyUnit = Literal["ms", "s"]
LATENCY_UNITS: Final[Mapping[str, float]] = {"ms": 1.0, "s": 1000.0}
# What a cache-hit-rate gauge can mean: hits over all assistant requests since start.
GAUGE_DEFINITIONS: Final[tuple[str, ...]] = ("hits_over_requests",)


class FamilyFields(Section):
    """What every family declares, whichever road it takes to the store."""

    name: Text
    type: Annotated[
        MetricType, says("is {input!r}; use one of " + ", ".join(sorted(METRIC_TYPES)) + ".")
    ]
    labels: Names
    # Labels a series of this family may carry or lack (every other one is exact).
    optional_labels: Names = ()
    buckets: Numbers = ()


class MetricSpec(FamilyFields):
    """One metric the backend must expose."""

    # What one observation's value is counted in (the latency histogram: "ms" or "s").
    unit: Annotated[
        str, not_here("is not a field of this metric (only `metrics.latency` has a unit).")
    ] = ""
    # What a gauge's value means (cache_hit_rate: "hits_over_requests").
    definition: Annotated[
        str,
        not_here("is not a field of this metric (only `metrics.cache_hit_rate` has a definition)."),
    ] = ""

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


def _latency_unit(value: str) -> str:
    if value not in get_args(LatencyUnit):
        raise ValueError("not a latency unit")
    return value


class LatencySpec(MetricSpec):
    """The latency histogram (`metrics.latency`).

    The suite injects known delays and checks where they land, so the unit must be known:
    given, or read from a name ending in `_ms` / `_seconds`.
    """

    unit: Annotated[
        str,
        AfterValidator(_latency_unit),
        says("is {input!r}; use " + " or ".join(get_args(LatencyUnit)) + "."),
    ] = ""

    @model_validator(mode="before")
    @classmethod
    def _unit_from_name(cls, data: Any) -> Any:
        """A unit left out (or null) is read from the name, when the name says it."""
        if not isinstance(data, dict) or data.get("unit") is not None:
            return data
        data = {key: value for key, value in data.items() if key != "unit"}
        name = data.get("name")
        if isinstance(name, str) and name.endswith(("_ms", "_milliseconds")):
            data["unit"] = "ms"
        elif isinstance(name, str) and name.endswith("_seconds"):
            data["unit"] = "s"
        return data

    @model_validator(mode="after")
    def _known_unit(self) -> LatencySpec:
        # Said here, not as a missing field, so that it comes only once the rest is valid.
        if not self.unit:
            raise problem(
                f"is missing and the name {self.name!r} does not end in _ms or _seconds; "
                'give "unit": "ms" or "s".',
                key="unit",
            )
        return self


class GaugeSpec(MetricSpec):
    """The cache-hit-rate gauge (`metrics.cache_hit_rate`): judged by what it means, so it
    must say."""

    # Any value is read, and judged once the rest is valid (`_defined`).
    definition: SkipValidation[str] = ""

    @model_validator(mode="after")
    def _defined(self) -> GaugeSpec:
        if self.type != "gauge":
            raise problem("must be gauge.", key="type")
        if self.definition not in GAUGE_DEFINITIONS:
            given = self.definition if "definition" in self.model_fields_set else None
            raise problem(
                f"is {given!r}; use "
                + " or ".join(GAUGE_DEFINITIONS)
                + " (the share of requests answered from the cache since the backend started).",
                key="definition",
            )
        return self


# A role beyond the four the suite counts: checked for its labels and values only.
_EXTRA_ROLE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class _Roles(BaseModel):
    """The roles the `metrics` section must or may name; any other role is validated as a
    plain metric."""

    model_config = ConfigDict(extra="allow", strict=True)
    __pydantic_extra__: dict[str, MetricSpec] = Field(init=False)

    requests: MetricSpec
    latency: LatencySpec
    tokens: MetricSpec
    errors: MetricSpec
    cache_hit_rate: Annotated[GaugeSpec | None, not_null("must be an object.")] = None


def _families(value: Any) -> dict[str, MetricSpec]:
    """The `metrics` section: an odd role name is an unknown field, every role is validated
    as its kind of family (`_Roles`)."""
    if isinstance(value, dict):
        odd = sorted(
            str(role)
            for role in value
            if role not in _Roles.model_fields and not _EXTRA_ROLE.match(str(role))
        )
        if odd:
            raise problem("", key=odd[0], form=UNKNOWN)
    roles = _Roles.model_validate(value)
    # The file's order: the closed world lists its tests in it.
    return {role: getattr(roles, role) for role in value}


# The `metrics` section: role -> family, in the file's order.
Families = Annotated[Mapping[str, MetricSpec], PlainValidator(_families)]
