"""A whole verification of one started stack, for stacks the session runs beside its own.

`e2e/test_own_pipeline.py` proves that the suite verifies a pipeline written like a
production one (the user's Alloy config, a folder of dashboards). Its stacks start with
the session's, and this verification runs in a background thread while the session's own
tests run, so the proof costs little wall time: traffic, every count check, and every
panel of every dashboard, each verdict kept for the test that judges it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from scanium_e2e.checks.counts import settle_counts
from scanium_e2e.checks.dashboards import DashboardReplay, settle_dashboard
from scanium_e2e.checks.otlp import settle_otlp
from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.contract import Contract
from scanium_e2e.errors import CheckFailed
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.secrets import Masker
from scanium_e2e.session.traffic import run_traffic, session_plan
from scanium_e2e.stack.alloy_config import PipelineComponents
from scanium_e2e.stack.compose import ComposeStack
from scanium_e2e.traffic.run import TrafficRun


@dataclass
class StackVerdict:
    """What the verification of one stack found; an empty failure is a pass."""

    components: PipelineComponents | None
    traffic_failure: str = ""
    run: TrafficRun | None = None
    # role -> "" (counted exactly) or the check's failure message
    counts: dict[str, str] = field(default_factory=dict)
    dashboards: dict[Path, DashboardReplay] = field(default_factory=dict)


def verify_stack(
    stack: ComposeStack, contract: Contract, masker: Masker, dashboards: list[Path]
) -> StackVerdict:
    """Send the session's traffic to `stack`, settle every count check (the OTLP road's
    too, when the contract has one), replay `dashboards`.

    A failure to get traffic counted (the scrape is broken, say) ends the verification
    with that failure: it is the one finding of such a stack.
    """
    pipeline = Pipeline.connect(stack.settings, contract, stack, masker)
    verdict = StackVerdict(components=stack.components)
    try:
        try:
            verdict.run = run_traffic(pipeline, session_plan(stack.settings, pipeline.contract))
        except CheckFailed as exc:
            verdict.traffic_failure = masker.mask(str(exc))
            return verdict
        if verdict.run.gate_failure is not None:  # no scrape held the first wave
            verdict.traffic_failure = masker.mask(str(verdict.run.gate_failure))
            return verdict
        settlement = CountSettlement(verdict.run)
        settle_counts(pipeline, settlement)
        pushed = CountSettlement(verdict.run)
        if pipeline.contract.otlp is not None:
            settle_otlp(pipeline, pushed)
        for role, settled in {**settlement.verdicts(), **pushed.verdicts()}.items():
            verdict.counts[role] = (
                masker.mask(str(settled)) if isinstance(settled, Exception) else ""
            )
        for path in dashboards:
            verdict.dashboards[path] = settle_dashboard(pipeline, path, settlement)
        return verdict
    finally:
        pipeline.close()
