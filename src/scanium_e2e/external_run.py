"""`pytest e2e/ --scanium-stack=external` against a stack, in a subprocess started in the
background.

The external-mode proofs (e2e/test_external_mode.py) pay a second interpreter, plugin
start, preflight and traffic of their own. Started the moment their stacks are ready, they
run beside the session's own tests and cost its wall time only what they outlast it by.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scanium_e2e.settings import REPO_ROOT
from scanium_e2e.stack import Stack
from scanium_e2e.stack.external import external_environment
from scanium_e2e.suite_run import child_environment, pytest_command


@dataclass(frozen=True)
class ExternalOutcome:
    """How the external run ended: exit code, its output, its JUnit file, seconds."""

    code: int
    output: str
    junit: Path
    seconds: float

    def __repr__(self) -> str:
        return f"ExternalOutcome(exit {self.code} after {self.seconds:.1f} s, JUnit {self.junit})"

    def verdict(self) -> str:
        """The run's verdict section (its causes and hop ladder), else its output's tail:
        what a failed proof quotes, instead of thousands of characters of output."""
        lines = self.output.splitlines()
        start = next((i for i, line in enumerate(lines) if "= verdict =" in line), None)
        if start is None:
            return self.output[-2000:]
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("=")), len(lines)
        )
        return "\n".join(lines[start + 1 : end])


class ExternalRun:
    """One `pytest e2e/ --scanium-stack=external <args>` against `stack`, running from `start()`."""

    def __init__(self, stack: Stack, *, api_key: str, run_id: str, args: Sequence[str] = ()):
        self.folder = Path(tempfile.mkdtemp(prefix="scanium-e2e-external-"))
        self.junit = self.folder / "junit.xml"
        self._env = child_environment(
            external_environment(stack.endpoints, api_key=api_key, run_id=run_id)
        )
        self._command = pytest_command(("e2e/",), self.folder, "--scanium-stack=external", *args)
        self._process: subprocess.Popen[str] | None = None
        self._began = 0.0
        self._outcome: ExternalOutcome | None = None

    def start(self) -> ExternalRun:
        """Launch the subprocess; returns at once."""
        self._began = time.monotonic()
        self._process = subprocess.Popen(
            self._command,
            cwd=REPO_ROOT,
            env=self._env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        return self

    def result(self, timeout_s: float = 600.0) -> ExternalOutcome:
        """Wait for the run (once) and return how it ended; a hung run is killed."""
        if self._outcome is not None:
            return self._outcome
        if self._process is None:
            self.start()
        assert self._process is not None
        try:
            output, _ = self._process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self._process.kill()
            output, _ = self._process.communicate()
            output += f"\n(scanium-e2e: the external run was killed after {timeout_s:g}s)"
        self._outcome = ExternalOutcome(
            code=self._process.returncode,
            output=output,
            junit=self.junit,
            seconds=time.monotonic() - self._began,
        )
        return self._outcome

    def stop(self) -> None:
        """Kill the run if it is still going (the session ends early)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.communicate()
