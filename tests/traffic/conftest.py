"""Fixtures of the traffic tests: the real backend and stub LLM on loopback uvicorn threads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from scanium_backend.app import create_app
from scanium_backend.config import Config
from starlette.types import ASGIApp
from stub_llm.background_server import serve_in_thread
from traffic_harness import Recorder, Served, backend_env


@pytest.fixture
def serve() -> Iterator[Callable[[ASGIApp], Served]]:
    """Factory: serve any ASGI app behind a Recorder; stopped after the test."""
    with ExitStack() as stack:

        def factory(app: ASGIApp) -> Served:
            recorder = Recorder(app)
            return Served(stack.enter_context(serve_in_thread(recorder)), recorder)

        yield factory


@pytest.fixture
def make_backend(stub_url: str, serve: Callable[[ASGIApp], Served]) -> Callable[..., Served]:
    """Factory: a fresh reference backend (fresh metrics), env overrides as keywords."""

    def factory(**overrides: str) -> Served:
        return serve(create_app(Config.from_env(backend_env(stub_url, **overrides))))

    return factory


@pytest.fixture
def backend(make_backend: Callable[..., Served]) -> Served:
    """The reference backend in production mode, provider openai on the stub."""
    return make_backend()
