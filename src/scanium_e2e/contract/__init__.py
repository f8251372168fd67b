"""Expectations as data: the metric names, labels and token types the suite checks.

The default contract file (fixtures/contract.json) describes the Scanium backend; a team
adapts the suite to its own backend by pointing SCANIUM_E2E_CONTRACT (or --scanium-contract) at a
copy. Parsing is strict: an unknown or misspelt field is an error that names it, because a
silently ignored expectation is a check that cannot fail.

The file's shape is declared once, as frozen pydantic models, one module per section; the
checks read those models (a few properties give a nested value its flat name, such as
`status_success` for `statuses.success`). Every problem they find is reported in one
paragraph, each naming its key path and what is wrong in the contract's own words
(`problems`).
"""

from __future__ import annotations

from scanium_e2e.contract.accounting import (
    RECORDED_AS,
    STUB_FAULTS,
    CacheSpec,
    FailureAccounting,
    FaultSpec,
    RecordedAs,
    Statuses,
    StubFault,
)
from scanium_e2e.contract.alerts import (
    ALERT_SCENARIOS,
    DEFAULT_MUST_PAGE,
    FAILURE_CLASSES,
    AlertExpectations,
    Pages,
)
from scanium_e2e.contract.file import Contract, Dashboards, SeriesBudget
from scanium_e2e.contract.http import HttpRoute, HttpRoutes, HttpSpec
from scanium_e2e.contract.labels import LabelRule
from scanium_e2e.contract.loading import load_contract, parse_contract
from scanium_e2e.contract.metrics import (
    GAUGE_DEFINITIONS,
    LATENCY_UNITS,
    METRIC_TYPES,
    GaugeSpec,
    LatencySpec,
    LatencyUnit,
    MetricSpec,
    MetricType,
    ScrapeSpec,
)
from scanium_e2e.contract.otlp import (
    OTLP_METRIC_ROLES,
    SPAN_METRIC_ROLES,
    SPAN_OUTCOMES,
    OtlpMetric,
    OtlpMetrics,
    OtlpSpec,
    SpanOutcome,
    SpanSpec,
)

__all__ = [
    "ALERT_SCENARIOS",
    "DEFAULT_MUST_PAGE",
    "FAILURE_CLASSES",
    "GAUGE_DEFINITIONS",
    "LATENCY_UNITS",
    "METRIC_TYPES",
    "OTLP_METRIC_ROLES",
    "RECORDED_AS",
    "SPAN_METRIC_ROLES",
    "SPAN_OUTCOMES",
    "STUB_FAULTS",
    "AlertExpectations",
    "CacheSpec",
    "Contract",
    "Dashboards",
    "FailureAccounting",
    "FaultSpec",
    "GaugeSpec",
    "HttpRoute",
    "HttpRoutes",
    "HttpSpec",
    "LabelRule",
    "LatencySpec",
    "LatencyUnit",
    "MetricSpec",
    "MetricType",
    "OtlpMetric",
    "OtlpMetrics",
    "OtlpSpec",
    "Pages",
    "RecordedAs",
    "ScrapeSpec",
    "SeriesBudget",
    "SpanOutcome",
    "SpanSpec",
    "Statuses",
    "StubFault",
    "load_contract",
    "parse_contract",
]
