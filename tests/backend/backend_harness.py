"""Shared constants and helpers of the backend tests (importable: conftest is not)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

API_KEY = "scanium-key-canary-4d1e"
OTHER_API_KEY = "scanium-key-other-77aa"
LLM_KEY = "sk-llm-canary-c0ffee"

ClientFactory = Callable[..., TestClient]
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def read_journal(stub_url: str) -> list[dict[str, Any]]:
    """The stub's journal, oldest first."""
    entries: list[dict[str, Any]] = httpx.get(f"{stub_url}/_stub/requests").json()
    return entries


def provider_env(provider: str, stub_url: str) -> dict[str, str]:
    """Environment for ``provider`` pointed at the stub, SDK retries off."""
    return {
        "SCANIUM_ASSISTANT_PROVIDER": provider,
        "OPENAI_API_KEY": LLM_KEY,
        "OPENAI_BASE_URL": f"{stub_url}/v1",
        "CLAUDE_API_KEY": LLM_KEY,
        "ANTHROPIC_BASE_URL": stub_url,
        "SCANIUM_ASSISTANT_MAX_RETRIES": "0",
    }


def chat_body(message: str = "Is this chair worth selling?", **extra: Any) -> dict[str, Any]:
    """A valid chat request body."""
    return {"items": [{"itemId": "item-1", "title": "Oak chair"}], "message": message, **extra}


def scrape(client: TestClient) -> Samples:
    """All samples of ``/metrics`` keyed by (sample name, labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def labels(**pairs: str) -> frozenset[tuple[str, str]]:
    """Label set for ``Samples`` keys."""
    return frozenset(pairs.items())


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
