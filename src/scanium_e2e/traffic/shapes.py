"""The requests of a plan: exact method, path, headers and body of each one.

Every request carries a fresh nonce (in the message, so the backend's response cache,
keyed by the normalised message, never answers two of ours with one LLM call), the run
id, and `X-Forwarded-Proto: https`, as the TLS-terminating proxy in front of a production
backend would set it.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field, replace
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Final

from scanium_e2e.traffic.canaries import CANARY_HEADER, Canaries
from scanium_e2e.traffic.plan import Kind, TrafficPlan

CHAT_PATH: Final = "/v1/assist/chat"
HEALTH_PATH: Final = "/health"
# A route no backend serves. The plan's unknown-route requests go to numbered paths under
# it (`-1`, `-2`, ...): one label value for all of them (the contract's unmatched route) is a
# template; one per path is the raw path. The canary request goes to it with a query.
UNKNOWN_ROUTE_PATH: Final = "/v1/assist/e2e-no-such-route"
MAX_MESSAGE_CHARS: Final = 2000
MAX_ITEMS: Final = 10


def _package_version() -> str:
    try:
        return version("scanium-e2e")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0"


USER_AGENT: Final = f"scanium-e2e-traffic/{_package_version()}"
RUN_ID_HEADER: Final = "X-E2E-Run-Id"
NONCE_HEADER: Final = "X-E2E-Nonce"

# Each is a 400 VALIDATION_ERROR in the contract; cycled in this order.
VALIDATION_CASES: Final = (
    "message_too_long",
    "too_many_items",
    "missing_item_id",
    "malformed_json",
)
UNAUTHORIZED_CASES: Final = ("wrong_key", "missing_key")


@dataclass(frozen=True)
class OutboundRequest:
    """One request to send, and what the plan meant by it."""

    seq: int
    kind: Kind
    case: str
    nonce: str
    method: str
    path: str
    params: dict[str, str] = field(repr=False)
    headers: dict[str, str] = field(repr=False)
    content: bytes | None = field(repr=False)
    fault: str | None = None
    planned_tokens: tuple[int, int] | None = None
    # Milliseconds the stub LLM is told to wait before it answers (0: no marker).
    delay_ms: int = 0
    # The remaining (requests, tokens) the stub's answer states in its headers.
    rate_limits: tuple[int, int] | None = None
    # Names of the canaries this request carries (never their values).
    canaries: tuple[str, ...] = ()


def stub_tokens_marker(input_tokens: int, output_tokens: int) -> str:
    """The stub LLM marker that fixes the usage of one answer."""
    return f"[[stub:tokens={input_tokens},{output_tokens}]]"


def stub_fault_marker(fault: str) -> str:
    """The stub LLM marker that makes one answer fail."""
    return f"[[stub:fault={fault}]]"


def stub_error_ref_marker(ref: str) -> str:
    """The stub LLM marker that makes a fault's error message quote `ref` ("" for none)."""
    return f" [[stub:error_ref={ref}]]" if ref else ""


def stub_rate_limit_marker(rate_limits: tuple[int, int] | None) -> str:
    """The stub LLM marker that sets a success's rate-limit headers ("" for none)."""
    return f" [[stub:ratelimit={rate_limits[0]},{rate_limits[1]}]]" if rate_limits else ""


def stub_delay_marker(delay_ms: int) -> str:
    """The stub LLM marker that makes one answer wait `delay_ms` milliseconds ("" for 0)."""
    return f" [[stub:delay_ms={delay_ms}]]" if delay_ms else ""


class _Builder:
    """Builds requests for one plan, handing out unique nonces."""

    def __init__(self, plan: TrafficPlan, canaries: Canaries | None) -> None:
        self._plan = plan
        self._canaries = canaries
        self._nonces: set[str] = set()

    def nonce(self) -> str:
        while True:
            # 64 random bits: collisions are impossible in practice; the loop makes it certain.
            value = secrets.token_hex(8)
            if value not in self._nonces:
                self._nonces.add(value)
                return value

    def headers(self, nonce: str, *, api_key: str | None, bearer: str = "") -> dict[str, str]:
        headers = {
            "X-Forwarded-Proto": "https",
            RUN_ID_HEADER: self._plan.run_id,
            NONCE_HEADER: nonce,
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if api_key is not None:
            headers["X-API-Key"] = api_key
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        return headers

    def authorised(self, nonce: str) -> dict[str, str]:
        return {
            **self.headers(nonce, api_key=self._plan.api_key, bearer=self._plan.bearer_token),
            "Content-Type": "application/json",
        }

    def message(self, nonce: str, text: str = "Suggest a better listing title.") -> str:
        return f"{text} (scanium-e2e run {self._plan.run_id}, nonce {nonce})"

    @staticmethod
    def item(nonce: str) -> dict[str, Any]:
        return {"itemId": f"e2e-item-{nonce}", "title": "Vintage film camera", "category": "camera"}

    @staticmethod
    def body(message: str, items: list[dict[str, Any]]) -> bytes:
        return json.dumps({"message": message, "items": items}).encode()

    def success(self, seq: int, *, canary: bool = False, delay_ms: int = 0) -> OutboundRequest:
        nonce = self.nonce()
        tokens = (self._plan.input_tokens, self._plan.output_tokens)
        text = "Suggest a better listing title."
        headers = self.authorised(nonce)
        names: tuple[str, ...] = ()
        if canary and self._canaries is not None:
            text = (
                f"Suggest a better listing title. Reply to {self._canaries.email} "
                f"and mention {self._canaries.prompt_phrase}."
            )
            headers[CANARY_HEADER] = self._canaries.header_value
            headers["User-Agent"] = self._canaries.user_agent_header(USER_AGENT)
            names = ("email", "prompt_phrase", "header_value", "user_agent")
        limits = self._plan.rate_limits
        message = (
            f"{self.message(nonce, text)} {stub_tokens_marker(*tokens)}"
            f"{stub_delay_marker(delay_ms)}{stub_rate_limit_marker(limits)}"
        )
        return OutboundRequest(
            seq=seq,
            kind="success",
            case="canary_prompt" if names else "tokens",
            nonce=nonce,
            method="POST",
            path=CHAT_PATH,
            params={},
            headers=headers,
            content=self.body(message, [self.item(nonce)]),
            planned_tokens=tokens,
            canaries=names,
            delay_ms=delay_ms,
            rate_limits=limits,
        )

    def provider_error(self, seq: int, index: int) -> OutboundRequest:
        nonce = self.nonce()
        fault = self._plan.fault_for(index)
        delay_ms = self._plan.error_delay(index)
        # The provider's error text quotes a canary: a backend copying it anywhere shows it.
        ref = self._canaries.provider_text if self._canaries is not None else ""
        message = (
            f"{self.message(nonce)} {stub_fault_marker(fault)}{stub_delay_marker(delay_ms)}"
            f"{stub_error_ref_marker(ref)}"
        )
        return OutboundRequest(
            seq=seq,
            kind="provider_error",
            case=f"fault_{fault}",
            nonce=nonce,
            method="POST",
            path=CHAT_PATH,
            params={},
            headers=self.authorised(nonce),
            content=self.body(message, [self.item(nonce)]),
            fault=fault,
            delay_ms=delay_ms,
            canaries=("provider_text",) if ref else (),
        )

    def cache_repeat(self, seq: int, original: OutboundRequest) -> OutboundRequest:
        """`original` sent again: the same message and items, so the same cache key; its
        own nonce travels only in a header (no LLM call, so no tokens are planned)."""
        nonce = self.nonce()
        return OutboundRequest(
            seq=seq,
            kind="cache_repeat",
            case=f"repeat_of_{original.nonce}",
            nonce=nonce,
            method=original.method,
            path=original.path,
            params={},
            headers={**original.headers, NONCE_HEADER: nonce},
            content=original.content,
        )

    def validation_error(self, seq: int, index: int) -> OutboundRequest:
        nonce = self.nonce()
        case = VALIDATION_CASES[index % len(VALIDATION_CASES)]
        message = self.message(nonce)
        items = [self.item(nonce)]
        if case == "message_too_long":
            # One character over the limit: the boundary, not a vague "very long".
            message = message + " " + "x" * (MAX_MESSAGE_CHARS - len(message))
        elif case == "too_many_items":
            items = [
                {**self.item(nonce), "itemId": f"e2e-item-{nonce}-{n}"}
                for n in range(MAX_ITEMS + 1)
            ]
        elif case == "missing_item_id":
            items = [{"title": "An item without an itemId"}]
        content = self.body(message, items)
        if case == "malformed_json":
            # Cut off before its closing brackets: the JSON parser, not the schema, must
            # reject it (the nonce in the message still travels).
            content = content[:-2]
        return OutboundRequest(
            seq=seq,
            kind="validation_error",
            case=case,
            nonce=nonce,
            method="POST",
            path=CHAT_PATH,
            params={},
            headers=self.authorised(nonce),
            content=content,
        )

    def unauthorized(self, seq: int, index: int, *, canary: str = "") -> OutboundRequest:
        nonce = self.nonce()
        case = canary or UNAUTHORIZED_CASES[index % len(UNAUTHORIZED_CASES)]
        headers: dict[str, str]
        names: tuple[str, ...] = ()
        if case == "canary_api_key" and self._canaries is not None:
            headers = self.headers(nonce, api_key=self._canaries.api_key)
            names = ("api_key",)
        elif case == "canary_bearer" and self._canaries is not None:
            # A wrong key too, so the answer is 401 whether or not sessions are enforced.
            headers = self.headers(
                nonce, api_key=self._canaries.api_key, bearer=self._canaries.bearer_token
            )
            names = ("api_key", "bearer_token")
        elif case == "missing_key":
            headers = self.headers(nonce, api_key=None)
        else:
            headers = self.headers(nonce, api_key=f"e2e-wrong-key-{secrets.token_hex(12)}")
        headers["Content-Type"] = "application/json"
        return OutboundRequest(
            seq=seq,
            kind="unauthorized",
            case=case,
            nonce=nonce,
            method="POST",
            path=CHAT_PATH,
            params={},
            headers=headers,
            content=self.body(self.message(nonce), [self.item(nonce)]),
            canaries=names,
        )

    def unknown_route(self, seq: int, index: int = 0, *, canary: bool = False) -> OutboundRequest:
        nonce = self.nonce()
        params = {"nonce": nonce, "run": self._plan.run_id}
        names: tuple[str, ...] = ()
        if canary and self._canaries is not None:
            params["token"] = self._canaries.query_token
            params["email"] = self._canaries.query_email
            names = ("query_token", "query_email")
        return OutboundRequest(
            seq=seq,
            kind="unknown_route",
            case="canary_query" if names else "get",
            nonce=nonce,
            method="GET",
            path=UNKNOWN_ROUTE_PATH if canary else f"{UNKNOWN_ROUTE_PATH}-{index + 1}",
            params=params,
            # No API key: an unknown route needs none, and the key should travel no further.
            headers=self.headers(nonce, api_key=None),
            content=None,
            canaries=names,
        )


def _spread(groups: list[list[OutboundRequest]]) -> list[OutboundRequest]:
    """Interleave groups evenly, so every kind is spread over the run's duration."""
    positioned = [
        ((index + 0.5) / len(group), rank, request)
        for rank, group in enumerate(groups)
        for index, request in enumerate(group)
    ]
    return [request for _, _, request in sorted(positioned, key=lambda item: item[:2])]


def build_requests(plan: TrafficPlan, canaries: Canaries | None = None) -> list[OutboundRequest]:
    """Every request of `plan` in sending order, canary requests included when given.

    The first request is a plain success when the plan has one: it is sent alone, as a
    probe, so a wrong key or URL stops the run before anything else is sent; the cache
    repeats copy it, so its answer is cached before they go out. `seq` is the position in
    the returned order.
    """
    builder = _Builder(plan, canaries)
    successes = [builder.success(0, delay_ms=plan.success_delay(i)) for i in range(plan.successes)]
    groups = [
        successes[1:],
        [builder.cache_repeat(0, successes[0]) for _ in range(plan.cache_repeats)],
        [builder.provider_error(0, i) for i in range(plan.provider_errors)],
        [builder.validation_error(0, i) for i in range(plan.validation_errors)],
        [builder.unauthorized(0, i) for i in range(plan.unauthorized)],
        [builder.unknown_route(0, i) for i in range(plan.unknown_route)],
    ]
    if canaries is not None:
        groups.append(
            [
                builder.success(0, canary=True),
                builder.unauthorized(0, 0, canary="canary_api_key"),
                builder.unauthorized(0, 0, canary="canary_bearer"),
                builder.unknown_route(0, canary=True),
            ]
        )
    ordered = successes[:1] + _spread([group for group in groups if group])
    return [replace(request, seq=seq) for seq, request in enumerate(ordered)]
