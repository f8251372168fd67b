"""Grafana's server-side expressions, as a documented subset (README, "Alert rules").

Supported: `math` (math.lark), `reduce`, `threshold`, `classic_conditions`, `resample`.
Any other type (sql, ml, ...) is reported by name ("cannot evaluate: type sql").
"""

from scanium_e2e.alerts.expressions.values import (
    NO_DATA,
    ExpressionError,
    Number,
    Results,
    Series,
    Unsupported,
)

SUPPORTED_TYPES = ("math", "reduce", "threshold", "classic_conditions", "resample")

__all__ = [
    "NO_DATA",
    "SUPPORTED_TYPES",
    "ExpressionError",
    "Number",
    "Results",
    "Series",
    "Unsupported",
]
