"""The values a label may take (`vocabulary`, and the OTLP road's)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import PlainValidator, model_validator

from scanium_e2e.contract.fields import Names, Section
from scanium_e2e.contract.problems import problem


def _compiled(value: Any) -> re.Pattern[str]:
    """A pattern compiled once, here, so that one that cannot compile is named with where
    it breaks."""
    if isinstance(value, re.Pattern):
        return value
    if not isinstance(value, str) or not value:
        raise problem("must be a non-empty string.")
    try:
        return re.compile(value)
    except re.error as exc:
        raise problem(
            f"is not a regular expression: {value!r} ({exc.msg} at position {exc.pos})."
        ) from None


class LabelRule(Section):
    """The values one label may take: listed ones, or any matching a pattern (either does)."""

    values: Names = ()
    pattern: Annotated[re.Pattern[str] | None, PlainValidator(_compiled)] = None

    @model_validator(mode="after")
    def _says_something(self) -> LabelRule:
        if not self.model_fields_set:
            raise problem("needs `values`, `pattern` or both.")
        return self

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
