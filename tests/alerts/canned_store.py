"""A store double for the alert evaluator: canned answers per query text.

It never evaluates PromQL (a double must not share the code under test): each test says
what the store answers to each exact query, as a real store would have.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from scanium_e2e.clients.query import QueryError, Sample, Series


@dataclass
class CannedStore:
    """instant/range answers by query text; `known` series for the empty-query explainer."""

    instant_answers: Mapping[str, Sequence[Sample]] = field(default_factory=dict)
    range_answers: Mapping[str, Sequence[Series]] = field(default_factory=dict)
    known: Sequence[Mapping[str, str]] = ()
    rejected: Mapping[str, str] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def _check(self, query: str) -> None:
        self.asked.append(query)
        if query in self.rejected:
            raise QueryError(error_type="bad_data", error=self.rejected[query], store="Cortex")

    def instant(self, query: str, at: datetime | None = None) -> list[Sample]:
        self._check(query)
        return list(self.instant_answers.get(query, []))

    def range(self, query: str, start: datetime, end: datetime, step_s: float) -> list[Series]:
        self._check(query)
        return list(self.range_answers.get(query, []))

    def _of(self, match: str) -> list[Mapping[str, str]]:
        name = re.match(r"[A-Za-z_:][A-Za-z0-9_:]*", match)
        wanted = name.group(0) if name else ""
        return [s for s in self.known if not wanted or s.get("__name__") == wanted]

    def series(self, match: str, start: datetime, end: datetime) -> list[dict[str, str]]:
        return [dict(s) for s in self._of(match)]

    def label_values(
        self,
        label: str,
        match: str = "",
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[str]:
        return sorted({s[label] for s in self._of(match) if label in s})

    def label_names(
        self, match: str = "", start: datetime | None = None, end: datetime | None = None
    ) -> list[str]:
        return sorted({k for s in self._of(match) for k in s})

    def metric_names(self, start: datetime | None = None, end: datetime | None = None) -> list[str]:
        return sorted({s["__name__"] for s in self.known if "__name__" in s})


def up(value: float, **labels: str) -> Sample:
    """An `up` sample of the backend's scrape job."""
    return Sample({"__name__": "up", "job": "scanium-backend", **labels}, value)
