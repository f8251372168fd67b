"""The CLI: a listed command whose module is missing is an error, not a silent gap."""

from __future__ import annotations

import pytest

from scanium_e2e import cli


def test_a_missing_command_module_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, "no_such_command"))
    with pytest.raises(ModuleNotFoundError, match=r"scanium_e2e\.cli\.no_such_command"):
        cli.build_parser()


def test_python_dash_m_runs_the_command_line() -> None:
    """`python -m scanium_e2e` is `scanium-e2e`: the same commands, the same exit codes."""
    import subprocess
    import sys

    from scanium_e2e.settings import REPO_ROOT

    done = subprocess.run(
        [sys.executable, "-m", "scanium_e2e", "selftest", "--shard", "9/2"],
        cwd=REPO_ROOT,
        env={"PYTHONPATH": str(REPO_ROOT / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == cli.EXIT_USAGE, done.stderr
    assert "scanium-e2e selftest: --shard '9/2' is not K/N" in done.stderr
    assert "Traceback" not in done.stderr
