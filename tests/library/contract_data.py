"""The default contract as data, and copies of it with one value changed (for the tests of
what a contract file may and may not say)."""

from __future__ import annotations

import copy
import json
from typing import Any

from scanium_e2e.settings import REPO_ROOT

DEFAULT = REPO_ROOT / "fixtures" / "contract.json"


def default_data() -> dict[str, Any]:
    """fixtures/contract.json as parsed JSON."""
    return dict(json.loads(DEFAULT.read_text(encoding="utf-8")))


def contract_with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """The default contract with the value at `path` (keys from the top) set to `value`."""
    data = copy.deepcopy(default_data())
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data
