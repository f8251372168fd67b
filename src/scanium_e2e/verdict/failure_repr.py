"""How a failed test reads in pytest's report: its cause's sentence, not library frames.

pytest's short summary line and JUnit's `message` attribute both read
`report.longrepr.reprcrash.message`; a `CheckFailed` puts its first finding's sentence there
(`hop 1 (backend /metrics): GET ... answered HTTP 403: ...`) and prints its own text (the
wait, the broken hop, one line per hop) instead of the frames of the polling library. Any
other failure keeps pytest's text. Both are masked here, after pytest built them, so
nothing unmasked reaches the terminal, JUnit or another reporter, and the structure pytest
reads (`reprcrash`) survives the masking.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from _pytest._code.code import ReprFileLocation, TerminalRepr
from _pytest._io import TerminalWriter

from scanium_e2e.secrets import Masker
from scanium_e2e.verdict.causes import Cause, first_line

# The class name on the first `E` line, as pytest prints an exception (suite_run reads the
# line after it).
CHECK_FAILED = "scanium_e2e.errors.CheckFailed"


@dataclass(eq=False)
class FailureRepr(TerminalRepr):
    """A failure as pytest prints it: `E`-prefixed lines, then `path:line: kind`.

    `reprcrash.message` is the sentence the short summary and JUnit's `message` show.
    """

    lines: tuple[str, ...]
    location: tuple[str, int]
    kind: str
    reprcrash: ReprFileLocation
    # After the location: where the same failure is printed in full.
    note: str = ""

    def toterminal(self, tw: TerminalWriter) -> None:
        """`E   ` lines in red, then the location (after a blank line when there are several
        lines, as pytest prints an exception)."""
        for line in self.lines:
            tw.line(f"E   {line}", red=True, bold=True)
        path, lineno = self.location
        if len(self.lines) > 1:
            tw.line("")
        tw.write(path, bold=True, red=True)
        tw.line(f":{lineno}: {self.kind}{self.note}")


@dataclass(eq=False)
class MaskedRepr(TerminalRepr):
    """pytest's own report of a failure other than CheckFailed, masked, its crash line kept."""

    text: str
    reprcrash: ReprFileLocation | None

    def toterminal(self, tw: TerminalWriter) -> None:
        """The masked text, line by line."""
        for line in self.text.splitlines():
            tw.line(line)


def check_failed_repr(
    message: str,
    cause: Cause,
    location: tuple[str, int],
    masker: Masker,
    *,
    shown_at: str = "",
) -> FailureRepr:
    """The report of a CheckFailed: its message (masked) as `E` lines, its sentence as the
    crash message. `shown_at` names the test whose report already holds this very failure
    (a session fixture's error, re-raised for every test that uses it): then only the first
    line is repeated, with a pointer, not the whole diagnosis again."""
    text = masker.mask(message.strip()) or masker.mask(cause.sentence)
    lines = text.splitlines() or [""]
    note = ""
    if shown_at:
        lines = lines[:1]
        note = f" (the same failure as {shown_at}, printed in full there)"
    lines[0] = f"{CHECK_FAILED}: {lines[0]}"
    sentence = masker.mask(cause.sentence)
    return FailureRepr(
        tuple(lines),
        location,
        "CheckFailed",
        ReprFileLocation(location[0], location[1], sentence),
        note,
    )


def masked_repr(longrepr: object, masker: Masker, sentence: str = "") -> MaskedRepr:
    """pytest's report `longrepr` masked; its crash message is `sentence` when given, else
    pytest's own (masked)."""
    crash = getattr(longrepr, "reprcrash", None)
    reprcrash = None
    if crash is not None or sentence:
        path = str(getattr(crash, "path", ""))
        lineno = int(getattr(crash, "lineno", 0) or 0)
        message = sentence or str(getattr(crash, "message", ""))
        reprcrash = ReprFileLocation(path, lineno, masker.mask(message))
    return MaskedRepr(masker.mask(str(longrepr)), reprcrash)


def crash_sentence(longrepr: object) -> str:
    """The first line of pytest's crash message of `longrepr` ("" when it has none)."""
    crash = getattr(longrepr, "reprcrash", None)
    return first_line(str(getattr(crash, "message", ""))) if crash is not None else ""


def failure_location(
    item_path: Path, item_line: int, rootdir: Path, frames: list[tuple[Path, int]]
) -> tuple[str, int]:
    """Where to point a reader: the last frame in the test's own file (1-based line), else
    the test's definition; the path relative to `rootdir` when it is under it."""
    line = next((lineno for path, lineno in reversed(frames) if path == item_path), item_line)
    try:
        shown = str(item_path.relative_to(rootdir))
    except ValueError:
        shown = str(item_path)
    return shown, line
