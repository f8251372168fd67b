"""Every route of the backend, its success and error bodies, auth, limits and cache."""

from __future__ import annotations

import json
from typing import Any

import pytest
from backend_harness import API_KEY, OTHER_API_KEY, ClientFactory, FakeClock, chat_body
from scanium_backend.assistant import AssistantService

AUTH = {"X-API-Key": API_KEY}


def test_index_lists_the_endpoints(make_client: ClientFactory) -> None:
    response = make_client().get("/")
    assert response.status_code == 200
    assert {"method": "POST", "path": "/v1/assist/chat"} in response.json()["endpoints"]
    assert {"method": "GET", "path": "/metrics"} in response.json()["endpoints"]


def test_health(make_client: ClientFactory) -> None:
    body = make_client().get("/health").json()
    assert body["status"] == "ok"
    assert body["version"] == "0.1.0"
    assert body["ts"].endswith("Z")
    assert body["assistant"] == {"provider": "mock", "enabled": True}


@pytest.mark.parametrize(
    ("path", "body"), [("/healthz", {"status": "ok"}), ("/readyz", {"status": "ready"})]
)
def test_liveness_and_readiness(
    make_client: ClientFactory, path: str, body: dict[str, str]
) -> None:
    response = make_client().get(path)
    assert (response.status_code, response.json()) == (200, body)


def test_metrics_is_prometheus_text(make_client: ClientFactory) -> None:
    response = make_client().get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "# TYPE scanium_assistant_cache_hit_rate gauge" in response.text


def test_chat_success_body(make_client: ClientFactory) -> None:
    response = make_client().post("/v1/assist/chat", headers=AUTH, json=chat_body())
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"reply", "actions", "fromCache", "safety", "correlationId"}
    assert isinstance(body["reply"], str) and body["reply"]
    assert body["actions"] == [
        {
            "type": "APPLY_DRAFT_UPDATE",
            "payload": {
                "itemId": "item-1",
                "title": "Mock listing title",
                "description": "Mock listing description.",
            },
        }
    ]
    assert body["fromCache"] is False
    assert body["safety"]["blocked"] is False
    assert body["correlationId"] == response.headers["x-correlation-id"]


def test_unknown_route_is_404(make_client: ClientFactory) -> None:
    response = make_client().get("/v1/nothing?token=abc")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "NOT_FOUND", "message": "Route not found"}}


def test_wrong_method_is_405_with_allow(make_client: ClientFactory) -> None:
    response = make_client().get("/v1/assist/chat", headers=AUTH)
    assert response.status_code == 405
    assert response.json() == {
        "error": {"code": "METHOD_NOT_ALLOWED", "message": "Method not allowed"}
    }
    assert response.headers["allow"] == "POST"


def _error_code(response: Any) -> str:
    code: str = response.json()["error"]["code"]
    return code


@pytest.mark.parametrize(
    "body",
    [
        {"items": []},
        {"items": [], "message": ""},
        {"items": [], "message": "   \n\t"},
        {"items": [], "message": "x" * 2001},
        {"items": [], "message": 42},
        {"message": "hi"},
        {"items": {}, "message": "hi"},
        {"items": [{"itemId": str(i)} for i in range(11)], "message": "hi"},
        {"items": ["item-1"], "message": "hi"},
        {"items": [{}], "message": "hi"},
        {"items": [{"itemId": 7}], "message": "hi"},
        {"items": [{"itemId": ""}], "message": "hi"},
        {"items": [{"itemId": "a", "title": 5}], "message": "hi"},
        {"items": [{"itemId": "a", "description": None}], "message": "hi"},
        {"items": [{"itemId": "a", "category": ["x"]}], "message": "hi"},
        {"items": [{"itemId": "a", "attributes": "color"}], "message": "hi"},
        {"items": [{"itemId": "a", "attributes": [{"key": "color"}]}], "message": "hi"},
        {
            "items": [{"itemId": "a", "attributes": [{"key": "c", "value": "r", "source": 1}]}],
            "message": "hi",
        },
        {"items": [], "message": "hi", "history": "none"},
        {"items": [], "message": "hi", "history": [{"role": "system", "content": "x"}]},
        {"items": [], "message": "hi", "assistantPrefs": "terse"},
        [1, 2],
        "hello",
    ],
)
def test_invalid_bodies_are_400(make_client: ClientFactory, body: object) -> None:
    response = make_client().post("/v1/assist/chat", headers=AUTH, json=body)
    assert response.status_code == 400
    assert _error_code(response) == "VALIDATION_ERROR"
    assert set(response.json()["error"]) == {"code", "message"}


@pytest.mark.parametrize(
    "body",
    [
        {"items": [], "message": "x" * 2000},
        {"items": [{"itemId": str(i)} for i in range(10)], "message": "hi"},
        {
            "items": [
                {
                    "itemId": "a",
                    "title": "t",
                    "description": "d",
                    "category": "c",
                    "attributes": [{"key": "k", "value": "v", "source": "ocr"}],
                }
            ],
            "message": "hi",
            "history": [{"role": "user", "content": "before"}],
            "assistantPrefs": {"tone": "friendly"},
            "unknownField": True,
        },
    ],
)
def test_boundary_bodies_are_accepted(make_client: ClientFactory, body: object) -> None:
    assert make_client().post("/v1/assist/chat", headers=AUTH, json=body).status_code == 200


def test_malformed_json_is_400(make_client: ClientFactory) -> None:
    response = make_client().post(
        "/v1/assist/chat",
        headers={**AUTH, "Content-Type": "application/json"},
        content=b'{"items": [], "message": ',
    )
    assert (response.status_code, _error_code(response)) == (400, "VALIDATION_ERROR")
    assert response.json()["error"]["message"] == "Request body is not valid JSON"


def test_wrong_content_type_is_400(make_client: ClientFactory) -> None:
    response = make_client().post(
        "/v1/assist/chat",
        headers={**AUTH, "Content-Type": "text/plain"},
        content=json.dumps(chat_body()).encode(),
    )
    assert (response.status_code, _error_code(response)) == (400, "VALIDATION_ERROR")


def test_json_content_type_with_charset_is_accepted(make_client: ClientFactory) -> None:
    response = make_client().post(
        "/v1/assist/chat",
        headers={**AUTH, "Content-Type": "application/json; charset=utf-8"},
        content=json.dumps(chat_body()).encode(),
    )
    assert response.status_code == 200


def test_oversized_body_is_413(make_client: ClientFactory) -> None:
    response = make_client().post(
        "/v1/assist/chat",
        headers={**AUTH, "Content-Type": "application/json"},
        content=b" " * 1_048_577,
    )
    assert (response.status_code, _error_code(response)) == (413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}, {"Authorization": f"Bearer {API_KEY}"}],
)
def test_bad_api_key_is_401(make_client: ClientFactory, headers: dict[str, str]) -> None:
    response = make_client().post("/v1/assist/chat", headers=headers, json=chat_body())
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "UNAUTHORIZED", "message": "Missing or invalid API key"}
    }


def test_401_comes_before_validation(make_client: ClientFactory) -> None:
    response = make_client().post("/v1/assist/chat", json={"nonsense": True})
    assert response.status_code == 401


def test_every_configured_key_is_accepted(make_client: ClientFactory) -> None:
    client = make_client()
    for key in (API_KEY, OTHER_API_KEY):
        assert (
            client.post("/v1/assist/chat", headers={"X-API-Key": key}, json=chat_body()).status_code
            == 200
        )


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Bearer wrong-token", 401),
        ("Basic session-1", 401),
        ("Bearer ", 401),
        ("Bearer session-1", 200),
        ("bearer session-2", 200),
    ],
)
def test_session_tokens_when_configured(
    make_client: ClientFactory, authorization: str | None, status: int
) -> None:
    client = make_client({"SCANIUM_SESSION_TOKENS": "session-1,session-2"})
    headers = dict(AUTH)
    if authorization is not None:
        headers["Authorization"] = authorization
    response = client.post("/v1/assist/chat", headers=headers, json=chat_body())
    assert response.status_code == status
    if status == 401:
        assert response.json()["error"] == {
            "code": "UNAUTHORIZED",
            "message": "Missing or invalid session token",
        }


def test_disabled_provider_is_503(make_client: ClientFactory) -> None:
    client = make_client(provider="disabled")
    response = client.post("/v1/assist/chat", headers=AUTH, json=chat_body())
    assert response.status_code == 503
    assert _error_code(response) == "ASSISTANT_DISABLED"
    assert client.get("/health").json()["assistant"] == {"provider": "disabled", "enabled": False}


def test_unexpected_crash_is_a_bare_internal_error(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def explode(self: AssistantService, request: object, correlation_id: str) -> None:
        raise RuntimeError("secret internals /srv/app.py line 42")

    monkeypatch.setattr(AssistantService, "answer", explode)
    response = make_client().post("/v1/assist/chat", headers=AUTH, json=chat_body())
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "INTERNAL_ERROR", "message": "An unexpected error occurred"}
    }
    assert "secret internals" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/", "/health", "/metrics", "/nope", "/v1/assist/chat"])
@pytest.mark.parametrize("node_env", ["production", "development"])
def test_security_headers_on_every_response(
    make_client: ClientFactory, path: str, node_env: str
) -> None:
    # X-Forwarded-Proto keeps production's HTTPS enforcement out of the way.
    client = make_client({"NODE_ENV": node_env})
    response = client.get(path, headers={"X-Forwarded-Proto": "https"})
    assert (
        response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    hsts = response.headers.get("strict-transport-security")
    if node_env == "production":
        assert hsts == "max-age=31536000; includeSubDomains"
    else:
        assert hsts is None


# --- rate limits -------------------------------------------------------------------------


def _chat(client: Any, key: str = API_KEY, message: str = "hello", **headers: str) -> Any:
    return client.post(
        "/v1/assist/chat", headers={"X-API-Key": key, **headers}, json=chat_body(message)
    )


def test_per_user_limit_defaults_to_20_per_minute(make_client: ClientFactory) -> None:
    clock = FakeClock()
    client = make_client(clock=clock)
    statuses = [_chat(client, message=f"m{i}").status_code for i in range(21)]
    assert statuses == [200] * 20 + [429]
    limited = _chat(client)
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    assert limited.headers["retry-after"] == "60"
    clock.now += 45
    assert _chat(client).headers["retry-after"] == "15"
    clock.now += 15
    assert _chat(client).status_code == 200


def test_user_is_the_session_token_when_configured(make_client: ClientFactory) -> None:
    client = make_client(
        {"SCANIUM_SESSION_TOKENS": "s1,s2", "SCANIUM_RATE_LIMIT_USER_PER_MIN": "2"},
        clock=FakeClock(),
    )
    assert [_chat(client, Authorization="Bearer s1").status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    # Same API key, another user: not limited.
    assert _chat(client, Authorization="Bearer s2").status_code == 200


def test_per_key_limit(make_client: ClientFactory) -> None:
    client = make_client(
        {
            "SCANIUM_SESSION_TOKENS": "s1,s2,s3",
            "SCANIUM_RATE_LIMIT_KEY_PER_MIN": "3",
        },
        clock=FakeClock(),
    )
    statuses = [_chat(client, Authorization=f"Bearer s{i % 3 + 1}").status_code for i in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert _chat(client, key=OTHER_API_KEY, Authorization="Bearer s1").status_code == 200


def test_per_ip_limit(make_client: ClientFactory) -> None:
    client = make_client({"SCANIUM_RATE_LIMIT_IP_PER_MIN": "3"}, clock=FakeClock())
    statuses = [_chat(client, key=key).status_code for key in (API_KEY, OTHER_API_KEY) * 2]
    assert statuses == [200, 200, 200, 429]


def test_zero_disables_a_limit(make_client: ClientFactory) -> None:
    client = make_client({"SCANIUM_RATE_LIMIT_USER_PER_MIN": "0"}, clock=FakeClock())
    assert {_chat(client, message=f"m{i}").status_code for i in range(30)} == {200}


def test_unauthenticated_requests_do_not_count(make_client: ClientFactory) -> None:
    client = make_client({"SCANIUM_RATE_LIMIT_IP_PER_MIN": "2"}, clock=FakeClock())
    for _ in range(5):
        assert _chat(client, key="wrong").status_code == 401
    assert _chat(client).status_code == 200


# --- response cache ----------------------------------------------------------------------


def test_identical_requests_hit_the_cache(make_client: ClientFactory) -> None:
    client = make_client()
    first = _chat(client, message="Hello  World")
    second = _chat(client, message="  hello world ")
    assert first.json()["fromCache"] is False
    assert second.json()["fromCache"] is True
    assert second.json()["reply"] == first.json()["reply"]
    assert second.json()["correlationId"] != first.json()["correlationId"]


def test_a_nonce_or_another_first_item_misses_the_cache(make_client: ClientFactory) -> None:
    client = make_client()
    assert _chat(client, message="hello 1").json()["fromCache"] is False
    assert _chat(client, message="hello 2").json()["fromCache"] is False
    other_item = {"items": [{"itemId": "item-2"}], "message": "hello 1"}
    response = client.post("/v1/assist/chat", headers=AUTH, json=other_item)
    assert response.json()["fromCache"] is False


def test_cache_entries_expire(make_client: ClientFactory) -> None:
    clock = FakeClock()
    client = make_client({"SCANIUM_ASSISTANT_CACHE_TTL_SECONDS": "10"}, clock=clock)
    assert _chat(client).json()["fromCache"] is False
    assert _chat(client).json()["fromCache"] is True
    clock.now += 10
    assert _chat(client).json()["fromCache"] is False


def test_ttl_zero_disables_the_cache(make_client: ClientFactory) -> None:
    client = make_client({"SCANIUM_ASSISTANT_CACHE_TTL_SECONDS": "0"})
    assert [_chat(client).json()["fromCache"] for _ in range(2)] == [False, False]
