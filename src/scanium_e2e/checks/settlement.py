"""The count checks of one traffic run, settled at once: each role's verdict, the deviations.

`settle_counts` (checks/counts.py) polls every count role in its own thread and keeps each
verdict here; each test then reads its role's (`wait_for_planned` returns the counts or
re-raises the failure), so the checks cost the longest wait and every failure still belongs
to the test that names it. One owner creates it per run: the session's `settlement`
fixture (e2e/conftest.py), `verify_stack` for the stacks beside the session's, a benchmark.
"""

from __future__ import annotations

import threading

from scanium_e2e.findings import Finding, distinct
from scanium_e2e.traffic.run import Counts, TrafficRun


class CountSettlement:
    """What the count checks of `run` found: per role, the counts or the failure; and the
    deviations from the contract they named (a count moved, a metric never created).

    Written from one thread per role, read from the tests: every access takes the lock,
    and readers get copies.
    """

    def __init__(self, run: TrafficRun) -> None:
        self.run = run
        self._lock = threading.Lock()
        self._verdicts: dict[str, Counts | Exception] = {}
        self._deviations: list[Finding] = []

    def __repr__(self) -> str:
        # One line in a traceback (pytest prints fixture arguments), not every count.
        verdicts = self.verdicts()
        failed = sum(isinstance(verdict, Exception) for verdict in verdicts.values())
        settled = f"{len(verdicts)} count{'' if len(verdicts) == 1 else 's'} settled"
        return f"CountSettlement({settled}, {failed} failed, {len(self.deviations)} deviations)"

    def record(self, role: str, verdict: Counts | Exception) -> None:
        """Keep `role`'s verdict: its counts, or the failure its test re-raises."""
        with self._lock:
            self._verdicts[role] = verdict

    def verdict(self, role: str) -> Counts | Exception | None:
        """`role`'s verdict; None while it is not settled."""
        with self._lock:
            return self._verdicts.get(role)

    def verdicts(self) -> dict[str, Counts | Exception]:
        """Every settled role's verdict, in the order they settled."""
        with self._lock:
            return dict(self._verdicts)

    def note_deviation(self, finding: Finding) -> None:
        """Keep a deviation a count check named."""
        with self._lock:
            self._deviations.append(finding)

    @property
    def deviations(self) -> list[Finding]:
        """The deviations named, in order, each once (several checks can name the same)."""
        with self._lock:
            return distinct(self._deviations)
