"""The OTLP road (contract section 6, `otlp`): what the backend pushes to Alloy's
`otelcol.receiver.otlp`, and how the store holds it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import model_validator

from scanium_e2e.contract.fields import Names, Section, Text
from scanium_e2e.contract.labels import LabelRule
from scanium_e2e.contract.metrics import BACKEND, FamilyFields, MetricSpec
from scanium_e2e.contract.problems import keys_among, problem, says

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


class OtlpMetric(FamilyFields):
    """An OTLP family: as the store holds it, and as the backend records it, before Alloy's
    `otelcol.exporter.prometheus` translates the instrument's name and unit into the
    stored name."""

    # The instrument as the backend records it; unnamed, it has the stored name.
    instrument: Text = ""
    unit: Annotated[str, says("must be a string (an OpenTelemetry unit such as 1, s, ms).")] = ""
    # A rate-limit gauge's `limit_type`.
    limit: Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _instrument_by_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("instrument") is None:
            name = data.get("name")
            # Left out for an invalid name, which is named as such.
            instrument = {"instrument": name} if isinstance(name, str) and name else {}
            return {key: value for key, value in data.items() if key != "instrument"} | instrument
        return data

    @property
    def family(self) -> MetricSpec:
        """The family the store holds (the instrument's unit is not a latency unit)."""
        return MetricSpec(
            name=self.name,
            type=self.type,
            labels=self.labels,
            optional_labels=self.optional_labels,
            buckets=self.buckets,
        )


class OtlpMetrics(Section):
    """The families the backend pushes, by role (`OTLP_METRIC_ROLES`)."""

    requests: OtlpMetric
    duration: OtlpMetric
    tokens: OtlpMetric
    rate_limit_requests: OtlpMetric | None = None
    rate_limit_tokens: OtlpMetric | None = None


class SpanSpec(Section):
    """The span the backend makes for each chat request, as the span-metrics connector
    counts it: its name, kind, and the status each outcome gives it; and the connector's
    families (`calls`, `duration`)."""

    name: Text
    kind: Text
    status: Annotated[Mapping[str, Text], keys_among(SPAN_OUTCOMES)]
    calls: OtlpMetric
    duration: OtlpMetric | None = None

    @model_validator(mode="after")
    def _every_outcome(self) -> SpanSpec:
        missing = [outcome for outcome in SPAN_OUTCOMES if outcome not in self.status]
        if missing:
            raise problem(
                f"needs the span status of every outcome ({', '.join(SPAN_OUTCOMES)}); "
                f"missing: {', '.join(missing)}.",
                key="status",
            )
        return self


class OtlpSpec(Section):
    """The OTLP road: the receiver, and the families the store holds from it.

    Resource attributes become `job` (service.name) and `instance` (service.instance.id);
    the rest go to `target_info` only, as its `target_info` labels. `scope_labels` are the
    labels the exporter adds from the instrumentation scope to every series (none: it adds
    none). `vocabulary` gives the values of the OTLP labels (a label it does not list
    follows the contract's main vocabulary).
    """

    receiver: Text = "otelcol.receiver.otlp.backend_http"
    job: Text = BACKEND
    instance: Text = BACKEND
    temporality: Annotated[
        Literal["cumulative"],
        says(
            "is {input!r}; use cumulative (Alloy's otelcol.exporter.prometheus drops "
            "delta-temporality sums and histograms)."
        ),
    ] = "cumulative"
    target_info: Names = ()
    scope_labels: Names = ()
    metrics: OtlpMetrics
    spans: SpanSpec | None = None
    vocabulary: Mapping[str, LabelRule] = {}

    @property
    def pushed(self) -> dict[str, OtlpMetric]:
        """Metric role (`OTLP_METRIC_ROLES`) -> the family the backend pushes under it."""
        return {
            role: metric
            for role in OTLP_METRIC_ROLES
            if (metric := getattr(self.metrics, role)) is not None
        }

    @property
    def families(self) -> dict[str, MetricSpec]:
        """Role (`OTLP_METRIC_ROLES`, `SPAN_METRIC_ROLES`) -> the family the store holds."""
        families = {role: metric.family for role, metric in self.pushed.items()}
        if self.spans is not None:
            families["span_calls"] = self.spans.calls.family
            if self.spans.duration is not None:
                families["span_duration"] = self.spans.duration.family
        return families

    @property
    def limit_types(self) -> dict[str, str]:
        """Rate-limit gauge role -> the `limit_type` its one series carries."""
        return {role: metric.limit for role, metric in self.pushed.items() if metric.limit}
