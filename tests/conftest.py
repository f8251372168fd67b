"""Fixtures shared by the unit tests of the backend, the stub LLM and the traffic generator."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from stub_llm.app import create_app as create_stub_app
from stub_llm.background_server import serve_in_thread


@pytest.fixture(scope="session")
def stub_server() -> Iterator[str]:
    """Base URL of a real stub LLM served on 127.0.0.1 for the whole session."""
    with serve_in_thread(create_stub_app()) as url:
        yield url


@pytest.fixture
def stub_url(stub_server: str) -> str:
    """The stub's base URL, with an empty journal."""
    httpx.post(f"{stub_server}/_stub/reset").raise_for_status()
    return stub_server
