"""Shared pieces of the traffic tests (importable: conftest is not).

Servers run on 127.0.0.1 uvicorn threads (the stub LLM's `serve_in_thread`), because the
traffic generator speaks real HTTP through httpx; a `Recorder` in front of the app keeps
every request as the server received it, so tests can inspect headers, query and body.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from local_process import free_port
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Deliberately not shaped like a known key: if it is hidden, it is hidden on purpose.
API_KEY = "scanium-traffic-key-5b7c91e2d4"
LLM_KEY = "llm-key-for-the-stub-0a1b2c"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@dataclass
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int = 0

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass
class Recorder:
    """ASGI wrapper that records every HTTP request before the app answers it."""

    app: ASGIApp
    received: list[Received] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Read the whole body first: the backend answers a 401 without reading it, and the
        # tests still want to see what was sent.
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        record = Received(
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            headers={k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
            body=b"".join(chunks),
        )
        self.received.append(record)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": record.body, "more_body": False}
            return await receive()

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await send(message)

        await self.app(scope, replay, recording_send)

    def to(self, path: str) -> list[Received]:
        """Requests received for `path`."""
        return [request for request in self.received if request.path == path]


@dataclass(frozen=True)
class Served:
    """A server under test: its base URL and what it received."""

    url: str
    recorder: Recorder

    def metrics(self) -> str:
        """The backend's /metrics text (exempt from HTTPS enforcement)."""
        return httpx.get(f"{self.url}/metrics").text


def backend_env(stub_url: str, **overrides: str) -> dict[str, str]:
    """Production backend (HTTPS enforced), provider openai on the stub, no SDK retries,
    no rate limits (the tests that need a 429 use a fake)."""
    return {
        "SCANIUM_API_KEYS": API_KEY,
        "NODE_ENV": "production",
        "SECURITY_ENFORCE_HTTPS": "true",
        "SCANIUM_ASSISTANT_PROVIDER": "openai",
        "OPENAI_API_KEY": LLM_KEY,
        "OPENAI_BASE_URL": f"{stub_url}/v1",
        "SCANIUM_ASSISTANT_MAX_RETRIES": "0",
        "SCANIUM_RATE_LIMIT_USER_PER_MIN": "0",
        "SCANIUM_RATE_LIMIT_IP_PER_MIN": "0",
        "SCANIUM_RATE_LIMIT_KEY_PER_MIN": "0",
        **overrides,
    }


def closed_port_url() -> str:
    """A loopback URL on which nothing listens (bound, then released)."""
    return f"http://127.0.0.1:{free_port()}"


def parse_metrics(text: str) -> Samples:
    """All samples of an exposition keyed by (sample name, labels)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sum_where(samples: Samples, name: str, by: tuple[str, ...]) -> dict[tuple[str, ...], float]:
    """`sum by (by) (name)` over non-zero samples, like a PromQL query would give."""
    sums: dict[tuple[str, ...], float] = {}
    for (sample_name, labels), value in samples.items():
        if sample_name != name or not value:
            continue
        label_map = dict(labels)
        key = tuple(label_map.get(label, "") for label in by)
        sums[key] = sums.get(key, 0.0) + value
    return sums


ChatHandler = Callable[[Request], Awaitable[Response]]


def fake_backend(chat: ChatHandler) -> Starlette:
    """A minimal backend: `POST /v1/assist/chat` answered by `chat`, `GET /health` ok."""

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "assistant": {"provider": "openai"}})

    return Starlette(
        routes=[
            Route("/v1/assist/chat", chat, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ]
    )


def chat_success_body(**extra: Any) -> dict[str, Any]:
    """What the contract's 200 looks like."""
    return {"reply": "ok", "actions": [], "fromCache": False, "correlationId": "c-1", **extra}
