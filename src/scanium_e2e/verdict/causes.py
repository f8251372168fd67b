"""Failures grouped by cause: one line per distinct (hop, kind, subject), not per test.

A defect upstream (the seed incident's HTTP 403 at the backend's /metrics) fails every
test that reads the store; each of them carries the same first finding. Grouping on that
finding's fields (never on its words) turns thirty red lines into one cause that explains
thirty tests, as pint groups its problems per rule. A failure without a finding (a plain
assertion, a crash) is its own cause, keyed by its first line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scanium_e2e.findings import Finding, hop_name

CauseKey = tuple[int | None, str, str]


@dataclass(frozen=True)
class Cause:
    """Why a test failed: the first finding's hop, kind and subject, and its sentence."""

    hop: int | None
    kind: str
    subject: str
    sentence: str

    @property
    def key(self) -> CauseKey:
        """What failures are grouped on: (hop, kind, subject)."""
        return (self.hop, self.kind, self.subject)


def sentence_of(finding: Finding) -> str:
    """The finding as a summary line says it: `hop 1 (backend /metrics): GET ... 403: ...`."""
    text = finding.render()
    name = hop_name(finding.hop, finding.road)
    return f"hop {finding.hop} ({name}): {text}" if name else text


def first_line(text: str) -> str:
    """The first non-blank line of `text`, stripped ("" when there is none)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def cause_of(error: BaseException | None, fallback: str = "") -> Cause:
    """The cause of a failure: its first finding when it carries findings (CheckFailed),
    else the first line of its message (or `fallback`, pytest's own crash line)."""
    findings = [f for f in getattr(error, "findings", ()) if isinstance(f, Finding)]
    if findings:
        first = findings[0]
        return Cause(first.hop, str(first.kind), first.subject, sentence_of(first))
    line = first_line(str(error)) if error is not None else ""
    if not line:
        line = first_line(fallback) or (type(error).__name__ if error is not None else "failed")
    return Cause(None, "", line, line)


@dataclass(frozen=True)
class Failure:
    """One failed phase of one test: its id, the phase, its cause and the hop ladder."""

    test: str
    when: str
    cause: Cause
    ladder: tuple[str, ...] = ()


@dataclass(frozen=True)
class CauseGroup:
    """A distinct cause and the tests it explains, with the first ladder seen for it."""

    cause: Cause
    tests: tuple[str, ...]
    ladder: tuple[str, ...] = ()

    def line(self) -> str:
        """`[27 tests] hop 1 (backend /metrics): ...`; one test is named."""
        count = len(self.tests)
        who = f"1 test: {self.tests[0]}" if count == 1 else f"{count} tests"
        return f"[{who}] {self.cause.sentence}"


def group_causes(failures: Iterable[Failure]) -> list[CauseGroup]:
    """Distinct causes, the earliest broken hop first (the others may be its
    consequences), then by how many tests each explains; a test counts once per cause."""
    tests: dict[CauseKey, list[str]] = {}
    causes: dict[CauseKey, Cause] = {}
    ladders: dict[CauseKey, tuple[str, ...]] = {}
    for failure in failures:
        key = failure.cause.key
        causes.setdefault(key, failure.cause)
        seen = tests.setdefault(key, [])
        if failure.test not in seen:
            seen.append(failure.test)
        if failure.ladder and key not in ladders:
            ladders[key] = failure.ladder
    order = list(causes)
    groups = [CauseGroup(causes[key], tuple(tests[key]), ladders.get(key, ())) for key in order]

    def rank(group: CauseGroup) -> tuple[bool, int, int, int]:
        hop = group.cause.hop
        return (hop is None, hop or 0, -len(group.tests), order.index(group.cause.key))

    return sorted(groups, key=rank)


def ladder_of(groups: Sequence[CauseGroup]) -> tuple[str, tuple[str, ...]]:
    """The hop ladder to show once: the first group's that has one, and whose it is."""
    for group in groups:
        if group.ladder:
            return group.cause.sentence, group.ladder
    return "", ()
