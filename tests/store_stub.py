"""A real HTTP server on 127.0.0.1 that answers like a store's Prometheus API.

Each request is recorded (path, query parameters, headers, the client's port) and answered
from `answers`: path -> a list of (status, body) served in turn, the last one repeating.
Paths not listed answer 200 with an empty success body.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

Answer = tuple[int, object]


@dataclass
class Seen:
    """One request as the server received it."""

    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    client_port: int


@dataclass
class StoreStub:
    """What the server answers and what it has seen."""

    url: str = ""
    answers: dict[str, list[Answer]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def answer(self, path: str) -> Answer:
        queue = self.answers.get(path)
        if not queue:
            return 200, {"status": "success", "data": []}
        return queue.pop(0) if len(queue) > 1 else queue[0]


def prometheus_error(error_type: str, error: str) -> dict[str, str]:
    """The body the Prometheus API answers an error with."""
    return {"status": "error", "errorType": error_type, "error": error}


@contextmanager
def serve_store() -> Iterator[StoreStub]:
    """Serve a `StoreStub` on a free loopback port for the duration of the block."""
    stub = StoreStub()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse is visible

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            stub.seen.append(
                Seen(parts.path, parse_qs(parts.query), dict(self.headers), self.client_address[1])
            )
            status, body = stub.answer(parts.path)
            raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            kind = "text/plain" if isinstance(body, str) else "application/json"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
