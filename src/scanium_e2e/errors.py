"""The errors the library raises on purpose, each carrying a one-paragraph explanation."""

from __future__ import annotations

# Exit codes, documented in README ("Exit codes"): the one table every command and
# `pytest e2e/` take theirs from. The CLI's:
EXIT_OK = 0
EXIT_CHECK_FAILED = 1  # a check failed: surprises, an empty panel, a rule holds, a class unnoticed
EXIT_USAGE = 2
EXIT_NOTHING_CHECKED = 5  # `scanium-e2e dashboards`: every panel skipped, no verdict
EXIT_INTERRUPTED = 130
# `pytest e2e/` keeps pytest's own codes (0 pass, 1 failed, 2 interrupted, 3 internal
# error, 4 usage, 5 no tests) and ends early with these:
EXIT_BAD_INPUT = 4  # settings, contract, unreachable endpoint, rejected credentials
EXIT_STACK_FAILED = 6  # no Docker engine, images missing, a service never ready


class ScaniumE2EError(Exception):
    """Base class: its message is meant to be shown to the user as it is."""


class ConfigurationError(ScaniumE2EError):
    """Bad settings, a bad contract file, or a bad dashboard file."""


class EndpointError(ScaniumE2EError):
    """An endpoint of the pipeline is unreachable, refuses us, or answers nonsense."""


class StackError(ScaniumE2EError):
    """The stack could not be started or did not become ready."""


class CheckFailed(AssertionError):
    """A success criterion does not hold; the message names the broken hop and what was seen.

    It is an AssertionError so that pytest reports it as a failure, not as an error.
    `findings` are the structured reasons (verdict Findings, hop and kind): the pytest
    plugin writes them into the report (JUnit testcase properties), so a harness reading
    the result decides on data, never on the message's words. `ladder` is the hop-by-hop
    diagnosis (its headline and one line per hop, masked), when the check made one: the
    verdict at the end of a run shows it once for all the failures it explains.
    """

    def __init__(
        self,
        message: str = "",
        findings: tuple[object, ...] = (),
        ladder: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.findings = tuple(findings)
        self.ladder = tuple(ladder)
