"""Fixtures for the reference backend tests: in-process app, real stub LLM in a thread."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from backend_harness import API_KEY, OTHER_API_KEY, ClientFactory, provider_env
from scanium_backend.app import create_app
from scanium_backend.config import Config
from scanium_backend.telemetry import OpenAITelemetry
from starlette.testclient import TestClient


@pytest.fixture
def make_client(stub_url: str) -> Iterator[ClientFactory]:
    """Factory: ``make_client(env, provider=..., clock=..., telemetry=...)`` -> a started
    TestClient.

    The base environment has one API key (``API_KEY``, plus ``OTHER_API_KEY``) and the
    given provider pointed at the stub.
    """
    opened: list[TestClient] = []

    def factory(
        env: dict[str, str] | None = None,
        *,
        provider: str = "mock",
        clock: Callable[[], float] = time.monotonic,
        base_url: str = "http://testserver",
        telemetry: OpenAITelemetry | None = None,
    ) -> TestClient:
        full_env = {
            "SCANIUM_API_KEYS": f"{API_KEY},{OTHER_API_KEY}",
            **provider_env(provider, stub_url),
            **(env or {}),
        }
        app = create_app(Config.from_env(full_env), clock=clock, telemetry=telemetry)
        client = TestClient(app, base_url=base_url)
        client.__enter__()
        opened.append(client)
        return client

    yield factory
    for client in opened:
        client.__exit__(None, None, None)
