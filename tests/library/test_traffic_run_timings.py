"""run_traffic records how long each of its two waves took on the TrafficRun it returns."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from scanium_e2e.pipeline import Pipeline
from scanium_e2e.session import traffic as traffic_run
from scanium_e2e.traffic import Ledger, TrafficPlan
from scanium_e2e.traffic.run import TrafficRun


class Clock:
    """A monotonic clock that moves only when a fake step says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def fake_pipeline(started_here: bool) -> Pipeline:
    return cast(
        Pipeline,
        SimpleNamespace(
            endpoints=SimpleNamespace(backend_url="http://backend.invalid"),
            contract=None,
            settings=SimpleNamespace(external_mode=not started_here),
            stack=SimpleNamespace(started_here=started_here),
        ),
    )


@pytest.mark.parametrize(
    ("started_here", "order"),
    [
        # A fresh store: wave 1 before up == 1, wave 2 after the scrape that holds wave 1.
        (True, ["baseline", "send1", "scraped after 1234.5", "send2"]),
        # A deployment: up == 1 first, then wave 2 once the store shows wave 1.
        (False, ["up", "baseline", "send1", "visible", "send2"]),
    ],
)
def test_wave_timings_are_recorded(
    monkeypatch: pytest.MonkeyPatch, started_here: bool, order: list[str]
) -> None:
    clock = Clock()
    steps: list[str] = []
    sends: list[TrafficPlan] = []

    def wait_for_up(pipeline: Pipeline) -> None:
        steps.append("up")
        clock.advance(7.0)  # before the waves: not in any timing

    def count_baselines(pipeline: Pipeline) -> dict[str, Any]:
        steps.append("baseline")
        clock.advance(11.0)
        return {"requests": {}}

    def send_traffic(base_url: str, plan: TrafficPlan) -> Ledger:
        sends.append(plan)
        steps.append(f"send{len(sends)}")
        clock.advance(2.0 if len(sends) == 1 else 5.0)
        ledger = Ledger(run_id=plan.run_id, provider=plan.provider, base_url=base_url, started_at=0)
        ledger.finished_at = 1234.5
        return ledger

    def wait_for_successes(pipeline: Pipeline, **kwargs: Any) -> dict[Any, float]:
        steps.append("visible")
        clock.advance(3.0)
        return {}

    def wait_for_scrape_after(pipeline: Pipeline, moment: float) -> None:
        steps.append(f"scraped after {moment}")
        clock.advance(3.0)

    monkeypatch.setattr(traffic_run, "time", clock)
    monkeypatch.setattr(traffic_run, "wait_for_up", wait_for_up)
    monkeypatch.setattr(traffic_run, "count_baselines", count_baselines)
    monkeypatch.setattr(traffic_run, "send_traffic", send_traffic)
    monkeypatch.setattr(traffic_run, "wait_for_successes", wait_for_successes)
    monkeypatch.setattr(traffic_run, "wait_for_scrape_after", wait_for_scrape_after)
    monkeypatch.setattr(traffic_run, "planned_counts", lambda ledger, contract: {"requests": {}})

    plan = TrafficPlan(api_key="key", run_id="run-timings", successes=3, provider_errors=2)
    run = traffic_run.run_traffic(fake_pipeline(started_here), plan)

    assert steps == order
    assert run.timings == {"wave1_send_s": 2.0, "wave1_gate_s": 3.0, "wave2_send_s": 5.0}
    assert [sent.successes for sent in sends] == [1, 2]


def test_timings_default_to_empty() -> None:
    run = TrafficRun(ledger=cast(Any, None), baseline={})
    assert run.timings == {}


def test_a_cut_pipeline_still_sends_wave_2_and_keeps_the_gate_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scanium_e2e.errors import CheckFailed

    sends: list[TrafficPlan] = []

    def send_traffic(base_url: str, plan: TrafficPlan) -> Ledger:
        sends.append(plan)
        return Ledger(run_id=plan.run_id, provider=plan.provider, base_url=base_url, started_at=0)

    def cut(pipeline: Pipeline, moment: float) -> None:
        raise CheckFailed("Alloy's scrape of backend:8080/metrics got HTTP 403")

    monkeypatch.setattr(traffic_run, "count_baselines", lambda pipeline: {"requests": {}})
    monkeypatch.setattr(traffic_run, "send_traffic", send_traffic)
    monkeypatch.setattr(traffic_run, "wait_for_scrape_after", cut)

    plan = TrafficPlan(api_key="key", run_id="run-cut", successes=3, provider_errors=2)
    run = traffic_run.run_traffic(fake_pipeline(True), plan)

    assert [sent.successes for sent in sends] == [1, 2]
    assert isinstance(run.gate_failure, CheckFailed)
    assert "HTTP 403" in str(run.gate_failure)
