"""Fixtures for the stub LLM tests: one real uvicorn server per session, journal reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import httpx
import openai
import pytest
from stub_harness import API_KEY
from stub_llm.app import create_app
from stub_llm.background_server import serve_in_thread


@pytest.fixture(scope="session")
def stub_server() -> Iterator[str]:
    """Base URL of a stub LLM served on 127.0.0.1 for the whole session."""
    with serve_in_thread(create_app()) as url:
        yield url


@pytest.fixture
def stub_url(stub_server: str) -> str:
    """The stub's base URL, with an empty journal."""
    httpx.post(f"{stub_server}/_stub/reset").raise_for_status()
    return stub_server


@pytest.fixture
def openai_client(stub_url: str) -> Iterator[openai.OpenAI]:
    """The official OpenAI SDK pointed at the stub, without retries."""
    client = openai.OpenAI(api_key=API_KEY, base_url=f"{stub_url}/v1", max_retries=0)
    yield client
    client.close()


@pytest.fixture
def anthropic_client(stub_url: str) -> Iterator[anthropic.Anthropic]:
    """The official Anthropic SDK pointed at the stub, without retries."""
    client = anthropic.Anthropic(api_key=API_KEY, base_url=stub_url, max_retries=0)
    yield client
    client.close()
