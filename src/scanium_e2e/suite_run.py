"""Run the real suite (`pytest e2e/...`) in a subprocess against a stack; read its JUnit.

Used wherever the suite itself is the thing proved: the mutation harness (one run per
broken variant, attached to its stack), the deviation proofs and the external-mode proof.
A run's result is read from its JUnit XML, including each failure's structured findings
(the testcase properties the pytest plugin writes), so callers decide on hop and kind,
never on a failure's words.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scanium_e2e.findings import FINDING_PROPERTY
from scanium_e2e.settings import REPO_ROOT, environment_snapshot
from scanium_e2e.stack.compose import ComposeStack

# The files whose tests check the stack under test (the proofs start stacks of their own).
SUITE_FILES = (
    "e2e/test_scrape_health.py",
    "e2e/test_requests.py",
    "e2e/test_latency.py",
    "e2e/test_tokens.py",
    "e2e/test_errors.py",
    "e2e/test_http.py",
    "e2e/test_labels.py",
    "e2e/test_no_secrets.py",
    "e2e/test_dashboards.py",
    "e2e/test_otlp.py",
)


# A run inside a run writes no job summary or verdict file of its own: the outer run's are
# the ones CI shows.
NESTED = {"GITHUB_STEP_SUMMARY": "", "SCANIUM_E2E_SUMMARY_MD": "", "SCANIUM_E2E_VERDICT_JSON": ""}


@dataclass(frozen=True)
class FindingRef:
    """A failure's structured reason as JUnit carries it."""

    hop: int | None
    kind: str
    subject: str = ""

    def key(self) -> tuple[int | None, str]:
        """(hop, kind): what a variant's expectation names."""
        return (self.hop, self.kind)


@dataclass(frozen=True)
class Outcome:
    """One run: exit code, output, failed ids -> first line (and -> whole text), xfail ids
    -> reason, skip reasons, seconds, passed ids, failed ids -> findings, failed ids ->
    JUnit `message` (the first finding's sentence)."""

    code: int
    output: str
    failed: dict[str, str]
    xfailed: dict[str, str]
    # skipped test id -> its reason
    skipped: dict[str, str]
    seconds: float
    texts: dict[str, str]
    passed: list[str] = field(default_factory=list)
    findings: dict[str, tuple[FindingRef, ...]] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    # test id -> seconds JUnit gives it (setup, call and teardown: a session wait is in the
    # setup of the first test that needs it)
    durations: dict[str, float] = field(default_factory=dict)

    @property
    def slowest(self) -> tuple[str, float]:
        """(test id, seconds) of the run's slowest test ("", 0.0 without one)."""
        if not self.durations:
            return "", 0.0
        test_id = max(self.durations, key=lambda key: self.durations[key])
        return test_id, self.durations[test_id]

    @property
    def ids(self) -> list[str]:
        """Every test id the run reported."""
        return [*self.passed, *self.failed, *self.xfailed]


def first_line(text: str) -> str:
    """The failure's own first line: pytest's first `E   ` line, without the exception class."""
    for line in text.splitlines():
        if line.startswith("E "):
            return re.sub(r"^[\w.]+: ", "", line[1:].strip())
    return ""


def _findings(case: ET.Element) -> tuple[FindingRef, ...]:
    refs = []
    for prop in case.iter("property"):
        if prop.get("name") != FINDING_PROPERTY:
            continue
        data = json.loads(prop.get("value", "{}"))
        refs.append(FindingRef(data.get("hop"), data.get("kind", ""), data.get("subject", "")))
    return tuple(refs)


def read_junit(path: Path, code: int, output: str, seconds: float) -> Outcome:
    """An Outcome from a JUnit XML file (an absent file: no test reported)."""
    failed: dict[str, str] = {}
    texts: dict[str, str] = {}
    xfailed: dict[str, str] = {}
    skipped: dict[str, str] = {}
    passed: list[str] = []
    findings: dict[str, tuple[FindingRef, ...]] = {}
    messages: dict[str, str] = {}
    durations: dict[str, float] = {}
    if path.exists():
        for case in ET.parse(path).getroot().iter("testcase"):
            test_id = f"{case.get('classname')}::{case.get('name')}"
            durations[test_id] = float(case.get("time") or 0.0)
            bad = [e for tag in ("failure", "error") for e in case.iter(tag)]
            for element in bad:
                # A teardown error after a failure adds a second element: keep the first.
                failed.setdefault(test_id, first_line(element.text or ""))
                texts.setdefault(test_id, element.text or "")
                messages.setdefault(test_id, element.get("message", ""))
            if bad:
                findings[test_id] = _findings(case)
            skips = list(case.iter("skipped"))
            for element in skips:
                message = element.get("message", "")
                if element.get("type") == "pytest.xfail":
                    xfailed[test_id] = message
                else:
                    skipped[test_id] = message
            if not bad and not skips:
                passed.append(test_id)
    return Outcome(
        code,
        output,
        failed,
        xfailed,
        skipped,
        seconds,
        texts,
        passed,
        findings,
        messages,
        durations,
    )


def pytest_command(targets: Sequence[str], folder: Path, *extra: str) -> list[str]:
    """`python -m pytest <targets> -q <extra>`, its JUnit at `folder/junit.xml`."""
    return [
        sys.executable,
        "-m",
        "pytest",
        *targets,
        "-q",
        "-rxs",
        "-p",
        "no:cacheprovider",
        f"--junitxml={folder / 'junit.xml'}",
        f"--scanium-artifacts-dir={folder / 'artifacts'}",
        *extra,
    ]


def child_environment(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a run of the suite inside a run (the harness's, the proofs'):
    ours, writing no job summary or verdict file of its own, with `overrides` on top. The
    one place a child run's environment is built."""
    return {**environment_snapshot(), **NESTED, **(overrides or {})}


def run_pytest(
    targets: Sequence[str],
    folder: Path,
    env: Mapping[str, str],
    *extra: str,
    timeout_s: float = 600,
) -> Outcome:
    """`python -m pytest <targets> <extra>` in the repo, `env` over ours, JUnit in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    junit = folder / "junit.xml"
    began = time.monotonic()
    result = subprocess.run(
        pytest_command(targets, folder, *extra),
        cwd=REPO_ROOT,
        env=child_environment(env),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    return read_junit(
        junit, result.returncode, result.stdout + result.stderr, time.monotonic() - began
    )


def attach_environment(stack: ComposeStack) -> dict[str, str]:
    """The variables that attach `pytest e2e/ --scanium-stack=attach` to a started local stack."""
    settings = stack.settings
    return {
        "SCANIUM_E2E_STACK": "attach",
        "SCANIUM_E2E_PROJECT": stack.project_name,
        "SCANIUM_E2E_RUN_ID": settings.run_id,
        "SCANIUM_E2E_API_KEY": settings.api_key,
        "SCANIUM_E2E_STORE": settings.store,
    }
