"""A stack's own variables win over the shell's in every `docker compose` command: a user
who sets SCANIUM_E2E_BACKEND_EXEMPT_PATHS to apply the seed incident to the session's stack
must not break the stacks beside it that pin their own (the external-mode proof's healthy
one, the mutation variants)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanium_e2e.stack.compose import _compose_for


def test_a_stack_s_overrides_win_over_the_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCANIUM_E2E_BACKEND_EXEMPT_PATHS", "/health")
    monkeypatch.setenv("SCANIUM_E2E_UNRELATED", "kept")
    env_file = tmp_path / "stack.env"
    env_file.write_text("", encoding="utf-8")
    pinned = {"SCANIUM_E2E_BACKEND_EXEMPT_PATHS": "/health,/metrics"}
    compose = _compose_for(tmp_path, ["compose.yml"], env_file, pinned)
    done = compose._run_command(
        ["sh", "-c", 'echo "$SCANIUM_E2E_BACKEND_EXEMPT_PATHS $SCANIUM_E2E_UNRELATED"']
    )
    assert done.stdout.decode().strip() == "/health,/metrics kept"
    plain = _compose_for(tmp_path, ["compose.yml"], env_file)
    shown = plain._run_command(["sh", "-c", 'echo "$SCANIUM_E2E_BACKEND_EXEMPT_PATHS"'])
    assert shown.stdout.decode().strip() == "/health"
