"""Shared constants and helpers of the stub LLM tests (importable: conftest is not)."""

from __future__ import annotations

from typing import Any

import httpx

API_KEY = "sk-stubtest-canary-7f3a9c"


def read_journal(stub_url: str) -> list[dict[str, Any]]:
    """The stub's journal entries, oldest first."""
    response = httpx.get(f"{stub_url}/_stub/requests")
    response.raise_for_status()
    entries: list[dict[str, Any]] = response.json()
    return entries
