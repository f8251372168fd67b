"""Alert rules as the suite reads them, and the state each is in on a scenario.

Two formats share one vocabulary: a `RuleRef` names a rule (its name, group, file, format
and kind), and a `RuleState` says what it did on one scenario (inactive, pending, firing,
no data, error; for recording rules, how many series they recorded). Rules that the stack
cannot evaluate are kept too, with a state that says why, so the table lists every rule
the user gave.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from scanium_e2e.promql import format_duration, metric_names

# The label a proof's alerts carry in a shared ruler (RuleSet.for_proof).
PROOF_LABEL = "scanium_e2e_rule_set"


class RuleFormat(StrEnum):
    """Where a rule comes from: a Prometheus rule file or Grafana alert provisioning."""

    PROMETHEUS = "prometheus"
    GRAFANA = "grafana"


class RuleKind(StrEnum):
    """An alerting rule pages someone; a recording rule writes series."""

    ALERTING = "alerting"
    RECORDING = "recording"


@dataclass(frozen=True)
class RuleRef:
    """One rule, named as its file names it."""

    name: str
    group: str
    file: str
    format: RuleFormat
    kind: RuleKind = RuleKind.ALERTING
    # The query a person reads to see what the rule asks (PromQL; for Grafana rules the
    # data source query the condition depends on).
    query: str = ""
    for_s: float = 0.0
    labels: Mapping[str, str] = field(default_factory=dict)
    # Position in its group: Prometheus allows two rules of one name in a group.
    index: int = 0


@dataclass(frozen=True)
class PrometheusGroup:
    """One rule group of a Prometheus rule file, as the ruler API takes it."""

    name: str
    file: Path
    rules: tuple[RuleRef, ...]
    # The group as YAML data (name, interval, rules[]): what is posted to the ruler.
    document: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GrafanaQuery:
    """One entry of a Grafana rule's `data[]`: a data source query or an expression."""

    ref_id: str
    datasource_uid: str
    model: Mapping[str, Any]
    relative_from_s: float = 600.0
    relative_to_s: float = 0.0

    @property
    def is_expression(self) -> bool:
        """True for server-side expressions (`__expr__`; `-100` in old exports)."""
        return self.datasource_uid in ("__expr__", "-100")

    @property
    def expression_type(self) -> str:
        """math, reduce, threshold, classic_conditions, resample, sql, ... ("" for queries)."""
        return str(self.model.get("type", "")) if self.is_expression else ""


@dataclass(frozen=True)
class GrafanaRule:
    """One Grafana-managed alert rule from provisioning YAML (or its JSON export)."""

    ref: RuleRef
    uid: str
    condition: str
    data: tuple[GrafanaQuery, ...]
    no_data_state: str = "NoData"
    exec_err_state: str = "Error"
    is_paused: bool = False

    def query(self, ref_id: str) -> GrafanaQuery | None:
        """The `data[]` entry with this refId."""
        for entry in self.data:
            if entry.ref_id == ref_id:
                return entry
        return None


@dataclass(frozen=True)
class RuleSet:
    """Every rule of the files the user named, in file order."""

    prometheus: tuple[PrometheusGroup, ...] = ()
    grafana: tuple[GrafanaRule, ...] = ()
    files: tuple[Path, ...] = ()
    # Files that hold no rule (Grafana contact points, policies), and why they were passed.
    skipped: tuple[str, ...] = ()

    @property
    def rules(self) -> list[RuleRef]:
        """Every rule, Prometheus groups first, each in file order."""
        return [rule for group in self.prometheus for rule in group.rules] + [
            rule.ref for rule in self.grafana
        ]

    @property
    def alerting(self) -> list[RuleRef]:
        """The alerting rules."""
        return [rule for rule in self.rules if rule.kind is RuleKind.ALERTING]

    def without(self, names: set[str]) -> RuleSet:
        """The same set without the rules named `names` (the proofs' copies); the rules
        kept are renumbered, as the ruler lists them by position."""
        groups = []
        for group in self.prometheus:
            kept = [r for r in group.rules if r.name not in names]
            if not kept:
                continue
            documents = [
                r
                for r in group.document.get("rules", [])
                if str(r.get("alert") or r.get("record")) not in names
            ]
            groups.append(
                PrometheusGroup(
                    group.name,
                    group.file,
                    tuple(replace(rule, index=i) for i, rule in enumerate(kept)),
                    {**group.document, "rules": documents},
                )
            )
        return RuleSet(
            tuple(groups),
            tuple(r for r in self.grafana if r.ref.name not in names),
            self.files,
            self.skipped,
        )

    def for_proof(self, rule_set: str) -> RuleSet:
        """This set as a proof loads it into a ruler beside the user's rules: without its
        recording rules, and with `PROOF_LABEL: rule_set` on each alerting rule, so that
        it writes no series another rule set writes. Two groups writing one series (the
        same `record:`, or the same alert's ALERTS) make the store discard samples as out
        of order, which hop 4 would read as the pipeline's (seen in CI). A proof's alert
        must then not read a recorded series: `recorded_reads` says which do."""
        recorded = {r.name for r in self.rules if r.kind is RuleKind.RECORDING}
        kept = self.without(recorded)
        groups = []
        for group in kept.prometheus:
            documents = [
                {**doc, "labels": {**(doc.get("labels") or {}), PROOF_LABEL: rule_set}}
                for doc in group.document.get("rules", [])
            ]
            rules = tuple(
                replace(rule, labels={**rule.labels, PROOF_LABEL: rule_set}) for rule in group.rules
            )
            groups.append(
                replace(group, rules=rules, document={**group.document, "rules": documents})
            )
        return replace(kept, prometheus=tuple(groups))

    def recorded_reads(self) -> list[tuple[RuleRef, str]]:
        """(alerting rule, recorded metric) for each alert of a Prometheus group that reads
        a series one of this set's recording rules writes."""
        recorded = {r.name for r in self.rules if r.kind is RuleKind.RECORDING}
        return [
            (rule, name)
            for group in self.prometheus
            for rule in group.rules
            if rule.kind is RuleKind.ALERTING
            for name in sorted(metric_names(rule.query) & recorded)
        ]


class State(StrEnum):
    """What a rule did on one scenario."""

    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    NO_DATA = "no data"
    ERROR = "error"
    RECORDED = "recorded"
    NO_SERIES = "no series"
    ELSEWHERE = "not part of this stack"
    UNSUPPORTED = "cannot evaluate"


@dataclass(frozen=True)
class ActiveSeries:
    """One series (alert instance) of a rule: its labels and the value that made it active."""

    labels: Mapping[str, str]
    value: float

    def describe(self) -> str:
        """`{a="b"} = 0` (`{}` for a label-less series)."""
        pairs = ", ".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()))
        return f"{{{pairs}}} = {self.value:g}"


@dataclass(frozen=True)
class RuleState:
    """A rule's state on one scenario, with the series that make it active."""

    rule: RuleRef
    state: State
    detail: str = ""
    series: tuple[ActiveSeries, ...] = ()

    @property
    def noticed(self) -> bool:
        """True when the rule's condition holds: pending or firing (a `for:` longer than the
        run counts as noticed once its condition holds)."""
        return self.state in (State.PENDING, State.FIRING)

    def cell(self) -> str:
        """The table cell: the state, and for pending rules when they would fire."""
        if self.state is State.PENDING:
            after = format_duration(self.rule.for_s)
            return f"pending (condition true, would fire after for: {after})"
        if self.state is State.RECORDED:
            return f"recorded {self.detail}"
        if self.state in (State.ERROR, State.UNSUPPORTED, State.ELSEWHERE) and self.detail:
            return f"{self.state}: {self.detail}"
        return str(self.state)

    def as_dict(self) -> dict[str, object]:
        """The state as JSON data."""
        return {
            "rule": self.rule.name,
            "group": self.rule.group,
            "file": self.rule.file,
            "format": str(self.rule.format),
            "kind": str(self.rule.kind),
            "state": str(self.state),
            "cell": self.cell(),
            "detail": self.detail,
            "series": [{"labels": dict(s.labels), "value": s.value} for s in self.series],
        }
