"""A recording rule whose data reached the store after the ruler's last evaluation is
recounted after one evaluation more (seen: the fixture's rate() recording judged empty
because its second sample came a second late), and only then."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from scanium_e2e.alerts.loading import load_rules
from scanium_e2e.alerts.model import RuleState, State
from scanium_e2e.alerts.prometheus_rules import record_late_data
from scanium_e2e.alerts.ruler import LoadedGroup, RulerClient, namespace_of
from scanium_e2e.clients.query import Sample
from scanium_e2e.verdict.empty_query import QueryClient

RULES = "groups:\n- name: g\n  rules:\n  - record: job:up:sum\n    expr: sum(up)\n"
COUNT = 'count({__name__="job:up:sum"})'


@dataclass
class LateStore:
    """`sum(up)` has data; the recording appears once the ruler evaluated after `since`."""

    ruler: FakeRuler
    expression_has_data: bool = True
    asked: list[str] = field(default_factory=list)

    def instant(self, query: str, at: datetime | None = None) -> list[Sample]:
        self.asked.append(query)
        if query == "sum(up)":
            return [Sample({}, 3.0)] if self.expression_has_data else []
        if query == COUNT and self.ruler.evaluated_again:
            return [Sample({}, 1.0)]
        return []


@dataclass
class FakeRuler:
    """Evaluates the group whenever asked (its last evaluation is always now)."""

    namespace: str
    name: str = "Cortex"
    calls: int = 0
    evaluated_again: bool = False

    def groups(self) -> list[LoadedGroup]:
        self.calls += 1
        self.evaluated_again = True
        return [LoadedGroup(self.namespace, "g", ({},), datetime.now(UTC))]


def _run(tmp_path: Path, *, has_data: bool) -> tuple[list[RuleState], FakeRuler]:
    path = tmp_path / "r.yml"
    path.write_text(RULES, encoding="utf-8")
    (group,) = load_rules([path]).prometheus
    ruler = FakeRuler(namespace_of("rules", group))
    store = cast(QueryClient, LateStore(ruler, expression_has_data=has_data))
    states = [RuleState(group.rules[0], State.NO_SERIES)]
    found = record_late_data(
        store, cast(RulerClient, ruler), "rules", [group], states, timeout_s=5.0
    )
    return found, ruler


def test_data_that_came_after_the_evaluation_is_recounted_after_one_more(tmp_path: Path) -> None:
    states, ruler = _run(tmp_path, has_data=True)
    assert [(s.state, s.detail) for s in states] == [(State.RECORDED, "1 series")]
    assert ruler.calls >= 1


def test_an_expression_without_data_is_not_waited_for(tmp_path: Path) -> None:
    states, ruler = _run(tmp_path, has_data=False)
    assert [s.state for s in states] == [State.NO_SERIES]
    assert ruler.calls == 0
