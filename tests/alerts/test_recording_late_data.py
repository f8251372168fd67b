"""A recording rule whose data reached the store after the ruler's last evaluation is
recounted after one evaluation more (seen: the fixture's rate() recording judged empty
because its second sample came a second late), and only then."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from scanium_e2e.alerts.datasources import Datasources
from scanium_e2e.alerts.loading import load_rules
from scanium_e2e.alerts.model import RuleState, State
from scanium_e2e.alerts.prometheus_rules import record_late_data
from scanium_e2e.alerts.ruler import LoadedGroup, RulerClient, namespace_of
from scanium_e2e.alerts.scenarios import AlertInputs, StoreTarget
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


@dataclass
class ScrapingStore:
    """`sum(up)` answers only once a second scrape after the traffic is in (a rate() over
    series the traffic created needs two samples); `up` is scraped every `interval_s`."""

    traffic_counted: float
    interval_s: float = 0.2
    asked: list[str] = field(default_factory=list)

    def latest_scrape(self) -> float:
        now = datetime.now(UTC).timestamp()
        return now - now % self.interval_s

    def instant(self, query: str, at: datetime | None = None) -> list[Sample]:
        self.asked.append(query)
        if query == 'max(timestamp(up{job="scanium-backend"}))':
            return [Sample({}, self.latest_scrape())]
        if query == "sum(up)":
            two = self.latest_scrape() >= self.traffic_counted + self.interval_s
            return [Sample({}, 3.0)] if two else []
        return []


def test_a_rule_judged_by_query_waits_for_a_scrape_an_interval_after_the_traffic(
    tmp_path: Path,
) -> None:
    path = tmp_path / "r.yml"
    path.write_text(RULES, encoding="utf-8")
    rules = load_rules([path])
    after = datetime.now(UTC)
    store = ScrapingStore(after.timestamp())
    target = StoreTarget(
        "healthy",
        cast(QueryClient, store),
        None,
        scrape_interval_s=0.2,
        scrape_job="scanium-backend",
    )
    (state,) = target.states(AlertInputs(rules, Datasources({}, ())), rules, "rules", after)
    assert (state.state, state.detail) == (State.RECORDED, "1 series")
    # Without the job (data older than the traffic) nothing is awaited.
    older = StoreTarget("cli", cast(QueryClient, ScrapingStore(after.timestamp() + 60)), None)
    (state,) = older.states(AlertInputs(rules, Datasources({}, ())), rules, "rules", after)
    assert state.state is State.NO_SERIES
