"""The CLI: a listed command whose module is missing is an error, not a silent gap."""

from __future__ import annotations

import pytest

from scanium_e2e import cli


def test_a_missing_command_module_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, "no_such_command"))
    with pytest.raises(ModuleNotFoundError, match=r"scanium_e2e\.cli\.no_such_command"):
        cli.build_parser()
