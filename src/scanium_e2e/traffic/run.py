"""What a session's traffic run returns: the ledger, the counts before it, the verdicts."""

from __future__ import annotations

from dataclasses import dataclass, field

from scanium_e2e.traffic.ledger import Ledger
from scanium_e2e.verdict.findings import Finding

Counts = dict[tuple[str, ...], float]


@dataclass(frozen=True)
class TrafficRun:
    """The traffic a session sent, Mimir's counts just before it, and settled count checks.

    `settled` maps a count role to what `settle_counts` found: the counts, or the failure
    that `wait_for_planned` re-raises for that role. `timings` holds the seconds of the steps
    of `run_traffic` (`wave1_send_s`, `wave1_gate_s`, `wave2_send_s`). `deviations`
    are the findings of count checks that named a deviation from the contract.
    """

    ledger: Ledger
    baseline: dict[str, Counts]
    settled: dict[str, Counts | Exception] = field(default_factory=dict, compare=False)
    timings: dict[str, float] = field(default_factory=dict, compare=False)
    # Deviations the count checks named (a count moved, a metric never created).
    deviations: list[Finding] = field(default_factory=list, compare=False)
    # Why wave 2 went out without a scrape holding wave 1 (the pipeline is cut): tests
    # that read the store fail with it; tests of what was sent and answered still run.
    gate_failure: Exception | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        # One line in a traceback, not the ledger's every entry.
        cut = ", no scrape held wave 1" if self.gate_failure is not None else ""
        settled = f"{len(self.settled)} counts settled"
        return f"TrafficRun({len(self.ledger.entries)} requests, {settled}{cut})"
