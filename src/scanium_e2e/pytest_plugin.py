"""pytest hooks: secrets masked in every report, skips failed on demand, summary sections.

Masking happens on the report objects themselves, so terminal output, `--junitxml` and
any other reporter see only masked text.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from scanium_e2e.findings import FINDING_PROPERTY, finding_json
from scanium_e2e.options import add_pytest_options, overrides_from
from scanium_e2e.secrets import Masker
from scanium_e2e.settings import Settings

MASKER_KEY = pytest.StashKey[Masker]()


def session_masker(config: pytest.Config) -> Masker:
    """The one Masker of this pytest session; fixtures add the secrets they create."""
    masker = config.stash.get(MASKER_KEY, None)
    if masker is None:
        masker = Masker()
        config.stash[MASKER_KEY] = masker
    return masker


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    """Mask secrets in failure text and captured output; turn skips into failures if asked."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    masker = session_masker(item.config)
    if report.longrepr is not None and report.failed:
        report.longrepr = masker.mask(str(report.longrepr))
    if report.failed and call.excinfo is not None:
        for finding in getattr(call.excinfo.value, "findings", ()):
            item.user_properties.append((FINDING_PROPERTY, masker.mask(finding_json(finding))))
    report.sections = [(title, masker.mask(text)) for title, text in report.sections]
    fail_on_skip = item.config.getoption("--fail-on-skip", default=False)
    if report.skipped and fail_on_skip and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, and --fail-on-skip is set: {reason}"


def pytest_addoption(parser: pytest.Parser) -> None:
    """The suite's options, from the one table of options (options.py); each also has a
    SCANIUM_E2E_* variable (README, "Configuration")."""
    add_pytest_options(parser)


def settings_of(config: pytest.Config) -> Settings:
    """The run's settings from the pytest options and the environment."""
    return Settings.from_env(
        overrides=overrides_from(lambda flag: config.getoption(flag, default=None))
    )


MUTATIONS_KEY = pytest.StashKey[list[str]]()


def record_mutation(config: pytest.Config, line: str) -> None:
    """Remember one variant's report line for the session's summary."""
    config.stash.setdefault(MUTATIONS_KEY, []).append(line)


SECTIONS_KEY = pytest.StashKey[dict[str, str]]()


def record_section(config: pytest.Config, title: str, text: str) -> None:
    """Print `text` once, under `title`, in the terminal summary (secrets masked).

    For what several tests share, such as a dashboard's whole table: each test's failure
    then says only its own part.
    """
    config.stash.setdefault(SECTIONS_KEY, {})[title] = text


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mutation variants are opt-in (--mutations); tests marked `late` run last.

    `late` tests send traffic of their own to the session's stack, so they must come
    after every test that compares the session's counts exactly.
    """
    if not config.getoption("--mutations", default=False):
        dropped = [item for item in items if item.get_closest_marker("mutation") is not None]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = [item for item in items if item.get_closest_marker("mutation") is None]
    items.sort(key=lambda item: item.get_closest_marker("late") is not None)


ACCEPTED_KEY = pytest.StashKey[list[str]]()
DEVIATIONS_KEY = pytest.StashKey[list[str]]()
ACCEPTED_PREFIX = "accepted by contract: "


def record_accepted(config: pytest.Config, nodeid: str, reason: str) -> str:
    """Remember that a test accepted a known deviation on purpose; returns the reason line."""
    line = reason if reason.startswith(ACCEPTED_PREFIX) else ACCEPTED_PREFIX + reason
    config.stash.setdefault(ACCEPTED_KEY, []).append(f"{nodeid}: {line}")
    return line


def record_deviations(config: pytest.Config, sentences: list[str]) -> None:
    """Remember the deviations the count checks named, for one line in the summary."""
    known = config.stash.setdefault(DEVIATIONS_KEY, [])
    known.extend(sentence for sentence in sentences if sentence not in known)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Recorded sections, accepted and named deviations, and `mutation harness: killed N/M`."""
    config = terminalreporter.config
    masker = session_masker(config)
    for title, text in config.stash.get(SECTIONS_KEY, {}).items():
        terminalreporter.section(title)
        for line in masker.mask(text).splitlines():
            terminalreporter.write_line(line)
    accepted = config.stash.get(ACCEPTED_KEY, [])
    if accepted:
        terminalreporter.section("accepted by contract")
        for line in accepted:
            terminalreporter.write_line(line)
    deviations = config.stash.get(DEVIATIONS_KEY, [])
    if deviations:
        terminalreporter.section("deviations from the contract")
        terminalreporter.write_line(masker.mask("; ".join(deviations)))
    lines = config.stash.get(MUTATIONS_KEY, [])
    if not lines:
        return
    killed = sum(1 for line in lines if line.startswith("killed"))
    terminalreporter.section("mutation harness")
    for line in lines:
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"mutation harness: killed {killed}/{len(lines)}")
