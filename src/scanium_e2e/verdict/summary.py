"""The verdict of a run, on one screen: each cause once, the hop ladder once, or what was
proved.

Built by the pytest plugin at the end of a session from what it recorded (each failure's
cause, each panel's outcome, what the traffic and the count checks established) and read
three ways: the terminal's last section (`lines`), `--scanium-verdict-json` (`as_json`) and the
Markdown job summary (verdict.writers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from scanium_e2e.findings import Kind
from scanium_e2e.verdict.causes import CauseGroup, ladder_of

PASSED = "passed"
FAILED = "failed"
# A cause whose wait reached its deadline (findings.Kind.UNDECIDED).
UNDECIDED = str(Kind.UNDECIDED)
XFAILED = "xfailed"
SKIPPED = "skipped"


@dataclass(frozen=True)
class PanelOutcome:
    """How one test ended (passed, failed, xfailed, skipped) and, unless it passed, why."""

    test: str
    outcome: str
    sentence: str = ""


@dataclass(frozen=True)
class Proved:
    """What a run established, in numbers: requests sent, exact counts, panels with data."""

    requests: int = 0
    exact_counts: tuple[str, ...] = ()
    # The OTLP road's counts that equal the ledger (and the rate-limit gauges).
    otlp_counts: tuple[str, ...] = ()


@dataclass(frozen=True)
class RateLimits:
    """The HTTP 429s the traffic met: the sentence (`Ledger.rate_limit_note`) and its data
    (`Ledger.rate_limit_summary`: how many, on which requests, the limits named, how many
    said Retry-After, the seconds waited)."""

    note: str
    data: dict[str, Any]


@dataclass
class Verdict:
    """Everything the end of a run says, as data."""

    counts: dict[str, int]
    seconds: float
    causes: list[CauseGroup] = field(default_factory=list)
    # Deviations the count checks named that no failure carries (accepted by a contract).
    deviations: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    # Panels (and other parts) the suite found but cannot check in this stack.
    outside: list[str] = field(default_factory=list)
    # Checks this run could not judge (a slow machine), each with why.
    unjudged: list[str] = field(default_factory=list)
    panels: list[PanelOutcome] = field(default_factory=list)
    proved: Proved | None = None
    rate_limits: RateLimits | None = None
    # Which alert rules tell each failure class apart from health (--scanium-mutations).
    alert_coverage: list[dict[str, Any]] = field(default_factory=list)
    artifacts: str = ""

    @property
    def failed(self) -> int:
        """Failed and errored tests."""
        return self.counts.get(FAILED, 0) + self.counts.get("error", 0)

    @property
    def green(self) -> bool:
        """True when no test failed or errored."""
        return self.failed == 0

    @property
    def undecided(self) -> list[str]:
        """The failed tests whose wait reached its deadline: undecided, not a finding."""
        return [
            test for group in self.causes if group.cause.kind == UNDECIDED for test in group.tests
        ]

    @property
    def panels_with_data(self) -> int:
        """Panels whose test passed: each had data over the run's window."""
        return sum(1 for panel in self.panels if panel.outcome == PASSED)

    def tally(self) -> str:
        """`29 failed, 33 passed, 2 xfailed in 20.3 s` (pytest's words, our seconds)."""
        order = (FAILED, "error", PASSED, XFAILED, SKIPPED, "deselected")
        parts = [
            f"{self.counts[k]} {k}{'s' if k == 'error' and self.counts[k] != 1 else ''}"
            for k in order
            if self.counts.get(k)
        ]
        return f"{', '.join(parts) or 'no tests ran'} in {self.seconds:.1f} s"

    def proved_line(self) -> str:
        """The one line of a green run: what it proved."""
        parts: list[str] = []
        if self.proved is not None and self.proved.requests:
            parts.append(f"{self.proved.requests} requests sent")
        if self.proved is not None and self.proved.exact_counts:
            roles = ", ".join(self.proved.exact_counts)
            parts.append(f"{len(self.proved.exact_counts)} counts exactly the ledger's ({roles})")
        if self.proved is not None and self.proved.otlp_counts:
            roles = ", ".join(self.proved.otlp_counts)
            parts.append(f"{len(self.proved.otlp_counts)} of the OTLP road exactly ({roles})")
        if self.panels:
            checked = [p for p in self.panels if p.outcome != SKIPPED]
            parts.append(f"{self.panels_with_data} of {len(checked)} panels with data")
        if not parts:
            return self.tally()
        return f"proved: {'; '.join(parts)}; {self.tally()}"

    def lines(self) -> list[str]:
        """The terminal's verdict section: causes and the ladder, or the proved line."""
        lines: list[str] = []
        if self.green:
            lines.append(self.proved_line())
        else:
            causes = len(self.causes)
            lines.append(
                f"{self.failed} failed on {causes} distinct cause{'s' if causes != 1 else ''}; "
                f"{self.tally()}"
            )
            lines.extend(group.line() for group in self.causes)
            if self.undecided:
                lines.append(
                    f"{len(self.undecided)} of them undecided: their wait reached its "
                    "deadline before its answer was final (no finding was made)"
                )
            _, ladder = ladder_of(self.causes)
            if ladder:
                lines.append("the hop ladder, once:")
                lines.extend(line.rstrip() for line in ladder)
        if self.rate_limits is not None:
            lines.append(self.rate_limits.note)
        if self.deviations:
            lines.append("deviations from the contract: " + "; ".join(self.deviations))
        if self.outside:
            shown = ", ".join(self.outside[:5])
            more = f" and {len(self.outside) - 5} more" if len(self.outside) > 5 else ""
            lines.append(
                f"not part of this stack (not checked, not counted as passed): {shown}{more}"
            )
        lines.extend(f"not judged on this run (not checked): {line}" for line in self.unjudged)
        if self.artifacts:
            lines.append(f"artifacts: {self.artifacts}")
        return lines

    def as_json(self) -> dict[str, Any]:
        """The verdict as data (`--scanium-verdict-json`)."""
        whose, ladder = ladder_of(self.causes)
        return {
            "outcome": "passed" if self.green else "failed",
            "counts": dict(self.counts),
            "seconds": round(self.seconds, 2),
            "causes": [
                {
                    "hop": group.cause.hop,
                    "kind": group.cause.kind,
                    "subject": group.cause.subject,
                    "sentence": group.cause.sentence,
                    "tests": list(group.tests),
                }
                for group in self.causes
            ],
            "ladder": {"cause": whose, "lines": [line.rstrip() for line in ladder]},
            "undecided": self.undecided,
            "rate_limits": None if self.rate_limits is None else dict(self.rate_limits.data),
            "alert_coverage": list(self.alert_coverage),
            "deviations": list(self.deviations),
            "accepted": list(self.accepted),
            "not_part_of_this_stack": list(self.outside),
            "not_judged_on_this_run": list(self.unjudged),
            "panels": [
                {"test": p.test, "outcome": p.outcome, "sentence": p.sentence} for p in self.panels
            ],
            "proved": None
            if self.proved is None
            else {
                "requests": self.proved.requests,
                "exact_counts": list(self.proved.exact_counts),
                "otlp_counts": list(self.proved.otlp_counts),
                "panels_with_data": self.panels_with_data,
            },
            "artifacts": self.artifacts,
        }


def uncovered(deviations: Sequence[str], groups: Sequence[CauseGroup]) -> list[str]:
    """The deviations no failure's sentence already says (accepted ones, typically)."""
    said = {group.cause.sentence for group in groups}
    return [d for d in deviations if not any(d in sentence for sentence in said)]
