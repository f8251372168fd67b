"""Canaries are planted exactly where promised, and never shown."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
from traffic_harness import API_KEY, Served

from scanium_e2e.secrets import find_secret_shapes
from scanium_e2e.traffic import TrafficPlan, TrafficProgress, send_traffic
from scanium_e2e.traffic.canaries import PLACEMENTS, Canaries


def test_canaries_are_fresh_distinct_and_shaped_like_the_real_thing() -> None:
    first, second = Canaries.generate(), Canaries.generate()
    values = first.values()
    assert len(values) == len(set(values)) == len(PLACEMENTS) == 9
    assert not set(values) & set(second.values())
    assert all(value not in repr(first) for value in values)
    shapes = {match.shape for value in values for match in find_secret_shapes(value)}
    assert {"openai-key", "jwt", "email"} <= shapes
    assert first.api_key.startswith("sk-canary-")


def test_canaries_are_planted_where_promised(backend: Served, stub_url: str) -> None:
    progress: list[TrafficProgress] = []
    plan = TrafficPlan(
        api_key=API_KEY, run_id="run-canary", successes=2, provider_errors=0,
        validation_errors=0, unauthorized=0, unknown_route=0, canaries=True,
    )  # fmt: skip
    ledger = send_traffic(backend.url, plan, progress=progress.append)
    canaries = ledger.canaries
    assert canaries is not None and ledger.planted() == canaries.values()
    assert ledger.surprises == []
    received = backend.recorder.received

    # The fake OpenAI key as X-API-Key, rejected; the fake JWT as bearer, rejected.
    key_requests = [r for r in received if r.headers.get("x-api-key") == canaries.api_key]
    assert {r.status for r in key_requests} == {401} and len(key_requests) == 2
    bearer = [
        r for r in received if r.headers.get("authorization") == f"Bearer {canaries.bearer_token}"
    ]
    assert [r.status for r in bearer] == [401]

    # E-mail and phrase inside a successful message, with the header and User-Agent canaries.
    [carrier] = [r for r in received if canaries.email.encode() in r.body]
    assert carrier.status == 200 and canaries.prompt_phrase.encode() in carrier.body
    assert carrier.headers["x-canary-header"] == canaries.header_value
    assert canaries.user_agent in carrier.headers["user-agent"]
    # ... and the message reached the LLM verbatim.
    journal = httpx.get(f"{stub_url}/_stub/requests").json()
    assert any(canaries.email in entry["text"] for entry in journal)

    # Query-string secrets on a GET to an unknown route, answered 404.
    [lookup] = [r for r in received if r.method == "GET" and "token=" in r.query]
    query = parse_qs(lookup.query)
    assert query["token"] == [canaries.query_token] and query["email"] == [canaries.query_email]
    assert lookup.status == 404

    # Nothing a user sees carries a canary.
    shown = ledger.summary() + "".join(p.describe() for p in progress)
    assert all(value not in shown for value in canaries.values())
