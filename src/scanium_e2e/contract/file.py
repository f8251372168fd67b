"""The whole contract file, and the sections that are only read through it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from scanium_e2e.contract.accounting import (
    STUB_FAULTS,
    CacheSpec,
    FailureAccounting,
    FaultSpec,
    Statuses,
)
from scanium_e2e.contract.alerts import AlertExpectations
from scanium_e2e.contract.fields import FLAG, FromFile, Names, Reason, Section
from scanium_e2e.contract.http import HttpSpec
from scanium_e2e.contract.labels import LabelRule
from scanium_e2e.contract.metrics import Families, MetricSpec, ScrapeSpec
from scanium_e2e.contract.otlp import OtlpSpec
from scanium_e2e.contract.problems import WHOLE, keys_among, not_null, problem, says


class SeriesBudget(Section):
    """How many series a family may have in one run before its labels count as unbounded."""

    default: Annotated[int, Field(gt=0), says("must be a positive whole number.")] = 200
    per_metric: Annotated[
        Mapping[str, Annotated[int, Field(gt=0)]],
        says("maps metric names to positive integers."),
    ] = {}


class Dashboards(Section):
    """The panels allowed to show No data, each with why."""

    allow_empty: Annotated[
        Mapping[str, Reason], says("maps panel titles to a non-empty reason.")
    ] = {}


class Contract(Section):
    """The whole contract file.

    Its sections are fields under the file's keys; a nested value the checks read by a flat
    name (`status_success`, `series_budget`, `requests`) is a property.
    """

    # What the file says about itself; read by people only.
    description: object = None
    scrape: ScrapeSpec = ScrapeSpec()
    # Every family the contract names, by role: requests, latency, tokens and errors, the
    # cache gauge, and any other (the HTTP metrics): each series of each carries exactly its
    # labels (checks/labels.py).
    families: Families = Field(alias="metrics")
    token_types: Names = ()
    statuses: Statuses = Statuses()
    # `errors_recorded: false` (the older field) means what `failures.error_counter: false` says.
    older_errors_recorded: Annotated[bool | None, not_null(), FLAG] = Field(
        None, alias="errors_recorded"
    )
    failures: FailureAccounting = Field(FailureAccounting(), validate_default=True)
    # `series_budget` is the per-metric map the checks read (a property).
    budgets: SeriesBudget = Field(SeriesBudget(), alias="series_budget")
    dashboards: Dashboards = Dashboards()
    # Label name -> the values it may take, for every family that carries it.
    vocabulary: Mapping[str, LabelRule] = {}
    # Stub fault -> the error_type and reason_code the errors counter must count it under.
    faults: Annotated[Mapping[str, FaultSpec], keys_among(STUB_FAULTS)] = {}
    cache: CacheSpec = CacheSpec()
    alerts: AlertExpectations = AlertExpectations()
    # The OTLP road, when the backend pushes one (None: it exposes /metrics only).
    otlp: Annotated[OtlpSpec | None, not_null("must be an object.")] = None
    # The HTTP layer counted against the ledger (None: judged for its labels only).
    http: Annotated[HttpSpec | None, not_null("must be an object.")] = None
    # The file it was read from (the FromFile context); "" when built in code.
    _source: str = PrivateAttr("")

    @field_validator("failures")
    @classmethod
    def _older_field(cls, failures: FailureAccounting, info: ValidationInfo) -> FailureAccounting:
        older = info.data.get("older_errors_recorded")
        return failures if older is None else FailureAccounting(error_counter=older)

    @model_validator(mode="after")
    def _one_failure_accounting(self) -> Contract:
        if {"older_errors_recorded", "failures"} <= self.model_fields_set:
            raise problem(
                "give `failures` or the older `errors_recorded`, not both "
                "(`errors_recorded: false` is `failures.error_counter: false`).",
                form=WHOLE,
            )
        return self

    @model_validator(mode="after")
    def _named(self, info: ValidationInfo) -> Contract:
        if isinstance(info.context, FromFile):
            self._source = info.context.source
        return self

    def __repr__(self) -> str:
        # One line in a traceback; the expectations are in the file it names.
        return f"Contract({self.source or 'defaults'})"

    __str__ = __repr__

    @property
    def source(self) -> str:
        """The file the contract was read from."""
        return self._source

    @property
    def requests(self) -> MetricSpec:
        """The requests counter."""
        return self.families["requests"]

    @property
    def latency(self) -> MetricSpec:
        """The latency histogram (a LatencySpec: its unit is known)."""
        return self.families["latency"]

    @property
    def tokens(self) -> MetricSpec:
        """The tokens histogram."""
        return self.families["tokens"]

    @property
    def errors(self) -> MetricSpec:
        """The errors counter."""
        return self.families["errors"]

    @property
    def cache_hit_rate(self) -> MetricSpec | None:
        """The share of requests answered from the cache (a gauge), when the backend has one."""
        return self.families.get("cache_hit_rate")

    @property
    def status_success(self) -> str:
        """The `status` of a request answered."""
        return self.statuses.success

    @property
    def status_error(self) -> str:
        """The `status` of a request whose LLM call failed (FailureAccounting says when)."""
        return self.statuses.error

    @property
    def errors_recorded(self) -> bool:
        """Whether the errors counter exists (the old `errors_recorded` field)."""
        return self.failures.error_counter

    @property
    def series_budget_default(self) -> int:
        """How many series a family not named in `series_budget` may have."""
        return self.budgets.default

    @property
    def series_budget(self) -> Mapping[str, int]:
        """Metric name -> how many series it may have."""
        return self.budgets.per_metric

    @property
    def allow_empty_panels(self) -> Mapping[str, str]:
        """Panel title -> why it may show No data."""
        return self.dashboards.allow_empty

    def budget_for(self, metric: str) -> int:
        """How many series `metric` may have in one run before labels count as unbounded."""
        return self.series_budget.get(metric, self.series_budget_default)
