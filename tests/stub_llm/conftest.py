"""Fixtures for the stub LLM tests: one real uvicorn server per session, journal reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest
from stub_harness import API_KEY


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
