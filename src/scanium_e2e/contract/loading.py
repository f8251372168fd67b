"""Reading a contract file: every problem in it named in one paragraph."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scanium_e2e.contract.fields import FromFile
from scanium_e2e.contract.file import Contract
from scanium_e2e.contract.problems import paragraph
from scanium_e2e.errors import ConfigurationError


def parse_contract(data: Any, source: str = "contract") -> Contract:
    """Build a Contract from decoded JSON; raises ConfigurationError naming any bad field.

    Every problem pydantic finds is named, key path first, in one paragraph.
    """
    try:
        return Contract.model_validate(data, context=FromFile(source))
    except ValidationError as exc:
        raise ConfigurationError(f"{source}: {paragraph(exc)}") from None


def load_contract(path: Path) -> Contract:
    """Read and validate a contract file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read the contract file {path}: {exc.strerror}.") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"the contract file {path} is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}."
        ) from None
    return parse_contract(data, source=str(path))
