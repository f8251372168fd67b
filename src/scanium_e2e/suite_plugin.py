"""The suite's pytest hooks, registered by the entry point (scanium_e2e.pytest_plugin) only
in a run that collects the suite or names one of its options: secrets masked in every
report, a sentence on every summary line, progress while the run works, skips failed on
demand, and the verdict at the end.

Masking happens on the report objects themselves, so terminal output, `--junitxml` and
any other reporter see only masked text; the masked report keeps pytest's structure
(`reprcrash`), whose message, the failure's first finding as a sentence, is what the short
summary and JUnit's `message` show (verdict.failure_repr). The verdict section groups the
failures by cause (verdict.causes, verdict.summary) and goes to `--scanium-verdict-json`
and the Markdown job summary too (verdict.writers).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from scanium_e2e import progress
from scanium_e2e.contract import Contract, load_contract
from scanium_e2e.errors import CheckFailed, ConfigurationError, ScaniumE2EError
from scanium_e2e.findings import FINDING_PROPERTY, finding_json
from scanium_e2e.mutation import parse_shard
from scanium_e2e.options import overrides_from, scanium_flag
from scanium_e2e.secrets import Masker
from scanium_e2e.settings import Settings
from scanium_e2e.verdict.causes import Cause, Failure, cause_of, group_causes
from scanium_e2e.verdict.failure_repr import (
    check_failed_repr,
    crash_sentence,
    failure_location,
    masked_repr,
)
from scanium_e2e.verdict.summary import (
    FAILED,
    PASSED,
    SKIPPED,
    XFAILED,
    PanelOutcome,
    Proved,
    RateLimits,
    Verdict,
    uncovered,
)
from scanium_e2e.verdict.writers import append_markdown, write_json

T = TypeVar("T")

MASKER_KEY = pytest.StashKey[Masker]()
# The JUnit report's testsuite property holding the rate limits the traffic met (JSON).
RATE_LIMITS_PROPERTY = "scanium-e2e.rate-limits"
# The JUnit report's testsuite property holding the alert coverage (JSON, --scanium-mutations).
COVERAGE_PROPERTY = "scanium-e2e.alert-coverage"


def _stashed(config: pytest.Config, key: pytest.StashKey[T], make: Callable[[], T]) -> T:
    """The session's one value under `key`, made on first use."""
    value = config.stash.get(key, None)
    if value is None:
        value = config.stash[key] = make()
    return value


def session_masker(config: pytest.Config) -> Masker:
    """The one Masker of this pytest session; fixtures add the secrets they create."""
    return _stashed(config, MASKER_KEY, Masker)


@dataclass
class _Session:
    """What the plugin gathers during a session for the verdict at its end."""

    started: float = field(default_factory=time.monotonic)
    failures: list[Failure] = field(default_factory=list)
    # id() of a CheckFailed already printed in full -> the test whose report holds it; the
    # exceptions are kept alive so an id is never reused.
    shown: dict[int, str] = field(default_factory=dict)
    kept: list[BaseException] = field(default_factory=list)
    panels: dict[str, PanelOutcome] = field(default_factory=dict)
    outside: list[str] = field(default_factory=list)
    unjudged: list[str] = field(default_factory=list)
    proved: Proved | None = None
    rate_limits: RateLimits | None = None
    alert_coverage: list[dict[str, object]] = field(default_factory=list)
    artifacts: str = ""
    progress: logging.Handler | None = None
    exitstatus: int = 0


SESSION_KEY = pytest.StashKey[_Session]()


def _session(config: pytest.Config) -> _Session:
    return _stashed(config, SESSION_KEY, _Session)


def _masked(cause: Cause, masker: Masker) -> Cause:
    return dataclasses.replace(
        cause, subject=masker.mask(cause.subject), sentence=masker.mask(cause.sentence)
    )


def _failure_report(
    item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport
) -> Failure:
    """Replace a failed report's longrepr by its masked, sentence-led form; its cause."""
    config = item.config
    masker = session_masker(config)
    gathered = _session(config)
    error = call.excinfo.value if call.excinfo is not None else None
    if isinstance(error, CheckFailed) and call.excinfo is not None:
        cause = _masked(cause_of(error), masker)
        frames = [(Path(str(entry.path)), entry.lineno + 1) for entry in call.excinfo.traceback]
        defined_at = (item.location[1] or 0) + 1
        location = failure_location(item.path, defined_at, config.rootpath, frames)
        shown_at = gathered.shown.get(id(error), "")
        report.longrepr = check_failed_repr(str(error), cause, location, masker, shown_at=shown_at)
        if not shown_at:
            gathered.shown[id(error)] = item.nodeid
            gathered.kept.append(error)
        ladder = tuple(masker.mask(line) for line in error.ladder)
        return Failure(item.nodeid, report.when, cause, ladder)
    # Any other failure: pytest's own text, masked; its crash line (or, for an exception
    # carrying findings, the first finding) is the sentence.
    with_findings = error is not None and bool(getattr(error, "findings", ()))
    cause = cause_of(error if with_findings else None, crash_sentence(report.longrepr))
    cause = _masked(cause, masker)
    report.longrepr = masked_repr(report.longrepr, masker, cause.sentence)
    return Failure(item.nodeid, report.when, cause)


def _panel_test(item: pytest.Item) -> bool:
    """True for a dashboard panel's test (parametrized over a panel case)."""
    callspec = getattr(item, "callspec", None)
    case = callspec.params.get("case") if callspec is not None else None
    return case is not None and hasattr(case, "panel")


def _record_panel(item: pytest.Item, report: pytest.TestReport, cause: Cause | None) -> None:
    panels = _session(item.config).panels
    if report.failed:
        panels[item.nodeid] = PanelOutcome(item.nodeid, FAILED, cause.sentence if cause else "")
    elif hasattr(report, "wasxfail"):
        reason = session_masker(item.config).mask(str(report.wasxfail))
        panels[item.nodeid] = PanelOutcome(item.nodeid, XFAILED, reason)
    elif report.skipped:
        panels.setdefault(item.nodeid, PanelOutcome(item.nodeid, SKIPPED))
    elif report.when == "call" and item.nodeid not in panels:
        panels[item.nodeid] = PanelOutcome(item.nodeid, PASSED)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    """Mask secrets in failure text and captured output, put the failure's sentence on its
    summary line, remember its cause for the verdict; turn skips into failures if asked."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    masker = session_masker(item.config)
    cause: Cause | None = None
    if report.failed and call.excinfo is not None:
        for finding in getattr(call.excinfo.value, "findings", ()):
            item.user_properties.append((FINDING_PROPERTY, masker.mask(finding_json(finding))))
    if report.failed and report.longrepr is not None:
        failure = _failure_report(item, call, report)
        _session(item.config).failures.append(failure)
        cause = failure.cause
    report.sections = [(title, masker.mask(text)) for title, text in report.sections]
    fail_on_skip = item.config.getoption(scanium_flag("--fail-on-skip"), default=False)
    if report.skipped and fail_on_skip and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        said = f"skipped, and --scanium-fail-on-skip is set: {reason}"
        report.outcome = "failed"
        report.longrepr = said
        cause = Cause(None, "", said, said)
        _session(item.config).failures.append(Failure(item.nodeid, report.when, cause))
    if _panel_test(item):
        _record_panel(item, report, cause)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, None]:
    """A file that cannot be collected is a cause of its own in the verdict."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        text = str(report.longrepr).splitlines()
        errors = [line[1:].strip() for line in text if line.startswith("E ")]
        said = (errors or [line.strip() for line in text if line.strip()] or ["failed"])[-1]
        line = f"collecting {report.nodeid or 'the suite'} failed: {said}"
        cause = Cause(None, "", line, line)
        _session(collector.config).failures.append(Failure(report.nodeid, "collect", cause))


VERDICT_PLUGIN = "scanium-e2e-verdict"


# The suite's markers (also in the checkout's pyproject.toml): an installed suite has no
# ini file of its own.
MARKERS = (
    "e2e: needs the real stack (Docker, Mimir, Alloy, backend)",
    "mutation: a deliberately broken stack variant (opt-in with --scanium-mutations)",
    "late: runs after every other test (it adds traffic to the session's stack)",
    "alertmanager: proves routing; runs only with --scanium-alertmanager-config",
    "alert_rules: judges alert rules; runs on stacks with our Alloy config",
)


def pytest_configure(config: pytest.Config) -> None:
    """The suite's markers; options that need no stack are judged before anything runs: a
    bad `--scanium-shard` is a usage error (one paragraph, exit 4)."""
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    if not config.pluginmanager.has_plugin(VERDICT_PLUGIN):
        config.pluginmanager.register(VerdictLast(), VERDICT_PLUGIN)
    text = config.getoption(scanium_flag("--shard"), default=None)
    if text:
        try:
            parse_shard(str(text))
        except ConfigurationError as exc:
            raise pytest.UsageError(f"scanium-e2e: {exc}") from None


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start the clock of the verdict."""
    _session(session.config).started = time.monotonic()


def show_progress(config: pytest.Config) -> None:
    """Show the run's progress lines on the terminal from now on, unless quiet (-qq).

    Called by the e2e suite when its stack is about to start (the unit tests show none).
    """
    gathered = _session(config)
    if gathered.progress is not None:
        return
    if config.pluginmanager.get_plugin("terminalreporter") is None:
        return
    gathered.progress = progress.attach(
        lambda line: _write_uncaptured(config, line), verbosity=config.get_verbosity()
    )


@contextmanager
def _uncaptured(config: pytest.Config) -> Iterator[None]:
    """pytest's output capture suspended (a fixture's line reaches the terminal)."""
    capture = config.pluginmanager.get_plugin("capturemanager")
    if capture is None:
        yield
        return
    with capture.global_and_fixture_disabled():
        yield


def _write_uncaptured(config: pytest.Config, line: str) -> None:
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is None:
        return
    with _uncaptured(config):
        terminal.write_line(session_masker(config).mask(line))


def announce(config: pytest.Config, line: str) -> None:
    """One `scanium-e2e: ...` line on the terminal now, from a fixture (not captured)."""
    _write_uncaptured(config, f"scanium-e2e: {line}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remember how the session ended (runs before the terminal summary)."""
    _session(session.config).exitstatus = int(exitstatus)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop showing progress lines."""
    gathered = config.stash.get(SESSION_KEY, None)
    if gathered is not None:
        progress.detach(gathered.progress)
        gathered.progress = None


def record_outside(config: pytest.Config, lines: list[str]) -> None:
    """Remember parts the suite found but cannot check here ("not part of this stack")."""
    known = _session(config).outside
    known.extend(line for line in lines if line not in known)


def record_unjudged(config: pytest.Config, lines: list[str]) -> None:
    """Remember checks this run could not judge, each with why ("not judged on this run")."""
    known = _session(config).unjudged
    known.extend(line for line in lines if line not in known)


def record_proved(config: pytest.Config, **established: Any) -> None:
    """Remember what the session's traffic and count checks established (the fields of
    `Proved` given; the others keep what an earlier call recorded)."""
    state = _session(config)
    state.proved = dataclasses.replace(state.proved or Proved(), **established)


def record_rate_limits(config: pytest.Config, note: str, data: dict[str, Any]) -> None:
    """Remember the HTTP 429s the session's traffic met, for the verdict."""
    _session(config).rate_limits = RateLimits(note, data)


def record_alert_coverage(config: pytest.Config, classes: list[dict[str, object]]) -> None:
    """Remember the alert coverage (one entry per failure class), for the verdict JSON."""
    _session(config).alert_coverage = list(classes)


def record_artifacts(config: pytest.Config, folder: Path) -> None:
    """Remember where the failure artifacts were written."""
    _session(config).artifacts = str(folder)


SETTINGS_KEY = pytest.StashKey["Settings | ScaniumE2EError"]()


def settings_of(config: pytest.Config) -> Settings:
    """The run's settings from the pytest options and the environment, built once per
    session (one run id, one key, the env files read once) and handed to every caller; a
    configuration error is raised to each, the same one."""
    built = config.stash.get(SETTINGS_KEY, None)
    if built is None:
        try:
            built = Settings.from_env(
                overrides=overrides_from(lambda flag: config.getoption(flag, default=None))
            )
        except ScaniumE2EError as exc:
            built = exc
        config.stash[SETTINGS_KEY] = built
    if isinstance(built, ScaniumE2EError):
        raise built
    return built


def collection_contract(config: pytest.Config) -> Contract:
    """The run's contract, as test collection reads it to parametrize (families, labels).

    A bad contract or bad settings leave the default here: the `settings` fixture then ends
    the session with exit 4 before any test runs.
    """
    try:
        return load_contract(settings_of(config).contract_file)
    except ScaniumE2EError:
        return load_contract(Settings().contract_file)


SECTIONS_KEY = pytest.StashKey[dict[str, str]]()


def record_section(config: pytest.Config, title: str, text: str) -> None:
    """Print `text` once, under `title`, in the terminal summary (secrets masked).

    For what several tests share, such as a dashboard's whole table: each test's failure
    then says only its own part.
    """
    config.stash.setdefault(SECTIONS_KEY, {})[title] = text


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mutation variants are opt-in (--scanium-mutations); tests marked `late` run last.

    `late` tests send traffic of their own to the session's stack, so they must come
    after every test that compares the session's counts exactly.
    """
    if not config.getoption(scanium_flag("--mutations"), default=False):
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
    """Recorded sections (the mutation harness's table among them) and accepted deviations;
    the verdict comes last, after pytest's short test summary (`VerdictLast`)."""
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


class VerdictLast:
    """Prints the verdict after pytest's own short test summary: with many failures on one
    cause, pytest's summary repeats it once per test, cut to the terminal's width, and the
    last screen must name the cause instead (registered by `pytest_configure`)."""

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_terminal_summary(
        self, terminalreporter: pytest.TerminalReporter
    ) -> Generator[None, None, None]:
        yield
        config = terminalreporter.config
        if _session(config).exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            return  # bad input, a stack that never started, an interruption: said already
        masker = session_masker(config)
        verdict = build_verdict(config, terminalreporter.stats)
        written = _write_verdict(config, verdict)
        terminalreporter.section("verdict")
        for line in [*verdict.lines(), *written]:
            terminalreporter.write_line(masker.mask(line))


def build_verdict(config: pytest.Config, stats: dict[str, list[object]]) -> Verdict:
    """The session's verdict from what the plugin gathered and pytest's tallies."""
    gathered = _session(config)
    keys = ("passed", "failed", "error", "xfailed", "xpassed", "skipped", "deselected")
    counts = {key: len(stats.get(key, [])) for key in keys}
    groups = group_causes(gathered.failures)
    deviations: list[str] = config.stash.get(DEVIATIONS_KEY, [])
    masker = session_masker(config)
    accepted: list[str] = config.stash.get(ACCEPTED_KEY, [])
    return Verdict(
        counts={key: value for key, value in counts.items() if value},
        seconds=time.monotonic() - gathered.started,
        causes=groups,
        deviations=[masker.mask(d) for d in uncovered(deviations, groups)],
        accepted=list(accepted),
        outside=list(gathered.outside),
        unjudged=list(gathered.unjudged),
        panels=list(gathered.panels.values()),
        proved=gathered.proved,
        rate_limits=gathered.rate_limits,
        alert_coverage=gathered.alert_coverage,
        artifacts=gathered.artifacts,
    )


def _write_verdict(config: pytest.Config, verdict: Verdict) -> list[str]:
    """Write `--scanium-verdict-json` and the Markdown summary when asked; lines saying where."""
    try:
        settings = settings_of(config)
    except ScaniumE2EError:
        return []  # bad input ended the run; its paragraph is the verdict
    written: list[str] = []
    mask = session_masker(config).mask
    if settings.verdict_json is not None:
        written.append(f"verdict JSON: {write_json(verdict, settings.verdict_json, mask)}")
    if settings.summary_md is not None:
        written.append(f"job summary: {append_markdown(verdict, settings.summary_md, mask)}")
    return written
