"""What a session's traffic run returns: the ledger, the counts before it, its timings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from scanium_e2e.traffic.ledger import Ledger

# Label values (in the order of a role's grouping labels) -> increase.
Counts = dict[tuple[str, ...], float]


@dataclass(frozen=True)
class TrafficRun:
    """The traffic a session sent and Mimir's counts just before it.

    Frozen, and honestly so: it holds only what `run_traffic` produced, set once when it
    returns, and nothing writes into it afterwards. What the count checks find about it
    (each role's verdict, the deviations they name) changes while threads poll, so it lives
    in a `CountSettlement` (checks/settlement.py) owned by whoever settles the counts.
    `timings` holds the seconds of the steps of `run_traffic` (`wave1_send_s`,
    `wave1_gate_s`, `wave2_send_s`).
    """

    ledger: Ledger
    baseline: Mapping[str, Counts]
    timings: Mapping[str, float] = field(default_factory=dict, compare=False)
    # Why wave 2 went out without a scrape holding wave 1 (the pipeline is cut): tests
    # that read the store fail with it; tests of what was sent and answered still run.
    gate_failure: Exception | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        # One line in a traceback, not the ledger's every entry.
        cut = ", no scrape held wave 1" if self.gate_failure is not None else ""
        return f"TrafficRun({len(self.ledger.entries)} requests{cut})"
