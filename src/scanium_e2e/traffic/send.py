"""Sending a plan: one httpx.Client, a thread pool, pacing, 429 retries, fail-fast errors.

Order of a run: `GET /health` (reachability, and which provider the backend says it uses),
then the first planned success alone as a probe (a wrong key, a wrong URL or HTTPS
enforcement stops the run before anything else is sent), then the rest concurrently.

Errors that make the run meaningless raise `EndpointError` (one paragraph, secrets masked):
unreachable backend, API key rejected by the probe, 403 HTTPS_REQUIRED. Everything else,
including a request that times out, is recorded in the ledger and noted as a surprise.
"""

from __future__ import annotations

import email.utils
import errno
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import httpx

from scanium_e2e.errors import ConfigurationError, EndpointError
from scanium_e2e.secrets import Masker
from scanium_e2e.traffic.canaries import Canaries
from scanium_e2e.traffic.ledger import Ledger, LedgerEntry
from scanium_e2e.traffic.plan import TrafficPlan
from scanium_e2e.traffic.shapes import (
    CHAT_PATH,
    HEALTH_PATH,
    USER_AGENT,
    OutboundRequest,
    build_requests,
)

# A backend on the same host or LAN accepts a connection in milliseconds; waiting longer
# only delays the verdict on a wrong URL.
CONNECT_TIMEOUT_S: Final = 3.0
# Without Retry-After, back off 1, 2, 4, ... seconds; per request at most this many tries.
MAX_RETRIES_PER_REQUEST: Final = 10
MAX_BACKOFF_S: Final = 30.0
MIN_RETRY_WAIT_S: Final = 0.2
# Backend text quoted in errors is cut to this length (after masking).
QUOTE_CHARS: Final = 160


@dataclass(frozen=True)
class TrafficProgress:
    """A snapshot of a run for progress output; holds no secret and no canary."""

    done: int
    total: int
    as_planned: int
    surprises: int
    retries: int
    elapsed_s: float
    # Set for events other than a finished request, e.g. a Retry-After pause.
    note: str = ""

    def describe(self) -> str:
        """One line: `12/20 requests (60%), 12 as planned, 0 surprises, 0 retries, 1.2 s`."""
        percent = 100 * self.done // self.total if self.total else 100
        text = (
            f"{self.done}/{self.total} requests ({percent}%), {self.as_planned} as planned, "
            f"{self.surprises} surprises, {self.retries} retries, {self.elapsed_s:.1f} s"
        )
        return f"{text}; {self.note}" if self.note else text


ProgressCallback = Callable[[TrafficProgress], None]


def display_url(base_url: str) -> str:
    """`base_url` without user:password, for messages."""
    parts = urlsplit(base_url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None if absent/bad."""
    if not value or not value.strip():
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _unreachable_reason(exc: httpx.TransportError, timeout_s: float) -> str:
    """`connection refused`, `name resolution failed`, ... from the exception chain."""
    if isinstance(exc, httpx.ConnectTimeout):
        return f"no connection within {timeout_s:g} s"
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or (
            isinstance(seen, OSError) and seen.errno == errno.ECONNREFUSED
        ):
            return "connection refused"
        if isinstance(seen, socket.gaierror):
            return "its host name does not resolve"
        if isinstance(seen, ssl.SSLError):
            return "the TLS handshake failed (certificate or protocol)"
        seen = seen.__cause__ or seen.__context__
    # httpcore flattens the OSError into the message on some platforms.
    text = str(exc)
    if "refused" in text.lower():
        return "connection refused"
    if "name or service not known" in text.lower() or "nodename nor servname" in text.lower():
        return "its host name does not resolve"
    return f"connection failed ({type(exc).__name__})"


@dataclass(frozen=True)
class _Answer:
    """The parts of a response body the ledger needs."""

    code: str = ""
    message: str = ""
    error_type: str = ""
    assistant_error: bool = False
    from_cache: bool | None = None


def _read_answer(response: httpx.Response) -> _Answer:
    try:
        body: Any = response.json()
    except (ValueError, UnicodeDecodeError):
        return _Answer()
    if not isinstance(body, dict):
        return _Answer()
    error = body.get("error")
    assistant_error = body.get("assistantError")
    from_cache = body.get("fromCache")
    if isinstance(assistant_error, dict):
        return _Answer(
            code=str(assistant_error.get("reasonCode") or ""),
            message=str(assistant_error.get("message") or ""),
            error_type=str(assistant_error.get("type") or ""),
            assistant_error=True,
            from_cache=from_cache if isinstance(from_cache, bool) else None,
        )
    if isinstance(error, dict):
        return _Answer(code=str(error.get("code") or ""), message=str(error.get("message") or ""))
    return _Answer(from_cache=from_cache if isinstance(from_cache, bool) else None)


class _Pacer:
    """Shared by all workers: the max rate, and a pause after a 429 with its budget."""

    def __init__(self, max_rate: float | None, retry_budget_s: float) -> None:
        self._interval = 1.0 / max_rate if max_rate else 0.0
        self._budget = retry_budget_s
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self._pause_until = 0.0
        self.waited_s = 0.0

    def acquire(self, stop: threading.Event) -> None:
        """Block until this worker may send (or `stop` is set)."""
        while not stop.is_set():
            with self._lock:
                now = time.monotonic()
                if self._pause_until > now:
                    wait, reserved = self._pause_until - now, False
                else:
                    slot = max(now, self._next_slot)
                    if self._interval:
                        self._next_slot = slot + self._interval
                    wait, reserved = slot - now, True
            if wait > 0:
                stop.wait(wait)
            if reserved:
                return

    def pause_for_retry(self, seconds: float) -> bool:
        """Pause every worker for `seconds`; False when that would exceed the budget.

        Overlapping pauses (several workers rate limited at once) are counted once.
        """
        with self._lock:
            now = time.monotonic()
            until = now + seconds
            extra = max(0.0, until - max(now, self._pause_until))
            if self.waited_s + extra > self._budget:
                return False
            self.waited_s += extra
            self._pause_until = max(self._pause_until, until)
            return True


class _Run:
    """The state of one `send_traffic` call."""

    def __init__(
        self,
        client: httpx.Client,
        base_url: str,
        plan: TrafficPlan,
        ledger: Ledger,
        masker: Masker,
        total: int,
        progress: ProgressCallback | None,
    ) -> None:
        self._client = client
        self._url = display_url(base_url)
        self._plan = plan
        self._ledger = ledger
        self._masker = masker
        self._total = total
        self._progress = progress
        self._pacer = _Pacer(plan.max_rate, plan.retry_budget_s)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._retries = 0
        self._as_planned = 0
        self._fatal: EndpointError | None = None

    # -- outcomes ---------------------------------------------------------------------

    def _quote(self, text: str) -> str:
        """Backend text, masked, on one line and short, for an error message."""
        flat = " ".join(self._masker.mask(text).split())
        return flat if len(flat) <= QUOTE_CHARS else flat[: QUOTE_CHARS - 3] + "..."

    def _error(self, message: str) -> EndpointError:
        return EndpointError(self._masker.mask(message))

    def _sent_so_far(self) -> str:
        done = len(self._ledger.entries)
        if not done:
            return "no traffic was sent"
        return f"stopped after {done} of {self._total} requests"

    def _unreachable(self, exc: httpx.TransportError) -> EndpointError:
        reason = _unreachable_reason(exc, CONNECT_TIMEOUT_S)
        return self._error(
            f"the backend at {self._url} is unreachable: {reason}; {self._sent_so_far()}. "
            "Check that the backend runs and that the URL (scheme, host and port) is right."
        )

    def _notify(self, note: str = "") -> None:
        """Report progress; the caller holds `self._lock`, so calls never interleave."""
        if self._progress is None:
            return
        entries = self._ledger.entries
        self._progress(
            TrafficProgress(
                done=len(entries),
                total=self._total,
                as_planned=self._as_planned,
                surprises=len(entries) - self._as_planned,
                retries=self._retries,
                elapsed_s=time.monotonic() - self._started,
                note=note,
            )
        )

    # -- one request ------------------------------------------------------------------

    def health(self) -> None:
        """`GET /health`: fail fast when unreachable; note the backend's provider."""
        try:
            response = self._client.get(HEALTH_PATH, headers={"X-Forwarded-Proto": "https"})
        except httpx.TimeoutException:
            return  # slow health is not our verdict to give; the probe will tell
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        try:
            body = response.json()
        except (ValueError, UnicodeDecodeError):
            return
        assistant = body.get("assistant") if isinstance(body, dict) else None
        provider = assistant.get("provider") if isinstance(assistant, dict) else None
        if isinstance(provider, str) and provider:
            self._ledger.backend_provider = provider
            if provider != self._plan.provider:
                self._ledger.surprises.append(
                    f"the backend's /health reports provider {provider!r}, the plan expects "
                    f'{self._plan.provider!r}: the metrics will carry provider="{provider}"'
                    + (" and no tokens" if provider == "mock" else "")
                )

    def send(self, request: OutboundRequest, *, probe: bool = False) -> None:
        """Send one request (retrying 429s) and record it; raise EndpointError if fatal."""
        retries = 0
        while True:
            self._pacer.acquire(self._stop)
            if self._stop.is_set():
                return
            sent_at = time.time()
            started = time.perf_counter()
            try:
                response = self._client.request(
                    request.method,
                    request.path,
                    params=request.params or None,
                    headers=request.headers,
                    content=request.content,
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                raise self._unreachable(exc) from None
            except httpx.TransportError as exc:
                latency_ms = (time.perf_counter() - started) * 1000
                kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
                self._record(
                    request,
                    None,
                    _Answer(),
                    latency_ms,
                    retries,
                    sent_at,
                    transport_error=f"{kind}: {type(exc).__name__}",
                )
                return
            latency_ms = (time.perf_counter() - started) * 1000
            answer = _read_answer(response)
            told = retry_after_seconds(response.headers.get("retry-after"))
            if response.status_code == 429:
                with self._lock:
                    self._ledger.note_rate_limit(
                        self._limit_of(response, answer), retry_after=told is not None
                    )
            if response.status_code == 429 and retries < MAX_RETRIES_PER_REQUEST:
                wait = told
                if wait is None:
                    wait = min(MAX_BACKOFF_S, 2.0**retries)
                wait = max(wait, MIN_RETRY_WAIT_S)
                if self._pacer.pause_for_retry(wait):
                    retries += 1
                    with self._lock:
                        self._retries += 1
                        self._ledger.retry_wait_s = self._pacer.waited_s
                        code = f" {answer.code}" if answer.code else ""
                        self._notify(f"HTTP 429{code}, waiting {wait:g} s before retrying")
                    continue
            self._check_fatal(request, response, answer, probe)
            self._record(request, response.status_code, answer, latency_ms, retries, sent_at)
            return

    def _limit_of(self, response: httpx.Response, answer: _Answer) -> str:
        """Which limit a 429 names: its RateLimit-Policy (or X-RateLimit-*) header where it
        sends one, else its code and message (masked, short)."""
        headers = response.headers
        for name in ("ratelimit-policy", "x-ratelimit-scope", "x-ratelimit-limit"):
            value = headers.get(name)
            if value:
                return self._quote(f"{name}: {value}")
        said = " ".join(
            part for part in (answer.code, f'"{answer.message}"' if answer.message else "") if part
        )
        return self._quote(said) if said else "no reason given"

    def _check_fatal(
        self, request: OutboundRequest, response: httpx.Response, answer: _Answer, probe: bool
    ) -> None:
        status = response.status_code
        said = f' The backend said: "{self._quote(answer.message)}".' if answer.message else ""
        if status == 403 and answer.code == "HTTPS_REQUIRED":
            raise self._error(
                f"the backend at {self._url} refused {request.method} {request.path} with "
                "HTTP 403 HTTPS_REQUIRED although the request carried X-Forwarded-Proto: https "
                "(as a TLS-terminating proxy sets it); "
                f"{self._sent_so_far()}. Send the traffic to the proxy's https:// URL, or "
                "check that the backend honours X-Forwarded-Proto."
            )
        if not probe or status in (200, 429):
            return
        if status == 401:
            raise self._error(
                f"the backend rejected the API key (HTTP 401 {answer.code or 'UNAUTHORIZED'}) "
                f"on the first request to {self._url}{CHAT_PATH}, so no more traffic was sent. "
                "Check the API key given to the traffic generator against the backend's "
                "SCANIUM_ASSISTANT_API_KEYS (or SCANIUM_API_KEYS) and, if the backend requires "
                f"sessions, the bearer token.{said}"
            )
        code = f" {answer.code}" if answer.code else ""
        raise self._error(
            f"the first request to {self._url}{CHAT_PATH} got HTTP {status}{code} where 200 "
            f"was expected, so no more traffic was sent. Is this the Scanium backend, with "
            f"its assistant enabled?{said}"
        )

    def _record(
        self,
        request: OutboundRequest,
        status: int | None,
        answer: _Answer,
        latency_ms: float,
        retries: int,
        sent_at: float,
        *,
        transport_error: str = "",
    ) -> None:
        planned = request.planned_tokens
        entry = LedgerEntry(
            seq=request.seq,
            kind=request.kind,
            case=request.case,
            nonce=request.nonce,
            fault=request.fault,
            planned_input_tokens=planned[0] if planned else None,
            planned_output_tokens=planned[1] if planned else None,
            http_status=status,
            code=self._masker.mask(answer.code)[:64],
            error_type=self._masker.mask(answer.error_type)[:64],
            assistant_error=answer.assistant_error,
            from_cache=answer.from_cache,
            latency_ms=round(latency_ms, 3),
            retries=retries,
            sent_at=sent_at,
            transport_error=transport_error,
            canaries=request.canaries,
            stub_delay_ms=request.delay_ms,
            planned_rate_limits=request.rate_limits,
            method=request.method,
            path=request.path,
        )
        with self._lock:
            self._ledger.record(entry)
            self._as_planned += entry.deviation() is None
            self._notify()

    # -- the pool ---------------------------------------------------------------------

    def _work(self, request: OutboundRequest) -> None:
        try:
            self.send(request)
        except EndpointError as exc:
            with self._lock:
                if self._fatal is None:
                    self._fatal = exc
            self._stop.set()

    def send_all(self, requests: list[OutboundRequest]) -> None:
        """Send `requests` with the plan's concurrency; raise the first fatal error."""
        futures: list[Future[None]] = []
        with ThreadPoolExecutor(
            max_workers=self._plan.concurrency, thread_name_prefix="scanium-traffic"
        ) as pool:
            try:
                futures = [pool.submit(self._work, request) for request in requests]
                for future in futures:
                    future.result()  # a bug in a worker surfaces here, not silently
            except BaseException:
                self._stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        if self._fatal is not None:
            raise self._fatal


def send_traffic(
    base_url: str, plan: TrafficPlan, *, progress: ProgressCallback | None = None
) -> Ledger:
    """Send every request of `plan` to the backend at `base_url`; return the ledger.

    Raises EndpointError (secrets masked, one paragraph) when the backend is unreachable,
    rejects the API key on the first request, or refuses with 403 HTTPS_REQUIRED; raises
    ConfigurationError for a malformed `base_url`. `progress` is called after every
    request and on every 429 pause, never concurrently.
    """
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"the backend URL {display_url(base_url)!r} is not an http:// or https:// URL."
        )
    base = base_url.strip().rstrip("/")
    canaries = Canaries.generate() if plan.canaries else None
    requests = build_requests(plan, canaries)
    masker = Masker([plan.api_key, plan.bearer_token])
    for value in canaries.values() if canaries else []:
        masker.add_canary(value)
    ledger = Ledger(
        run_id=plan.run_id,
        provider=plan.provider,
        base_url=display_url(base),
        started_at=time.time(),
        canaries=canaries,
    )
    timeout = httpx.Timeout(plan.timeout_s, connect=min(CONNECT_TIMEOUT_S, plan.timeout_s))
    # trust_env off: no proxy or netrc from the environment (the library reads none of it),
    # so what is sent is exactly what the ledger says.
    with httpx.Client(
        base_url=base,
        timeout=timeout,
        limits=httpx.Limits(max_connections=plan.concurrency + 1),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        trust_env=False,
    ) as client:
        run = _Run(client, base, plan, ledger, masker, len(requests), progress)
        try:
            run.health()
            # build_requests puts the first plain success first; it is the probe.
            probe = requests[0] if plan.successes else None
            rest = requests[1:] if probe is not None else requests
            if probe is not None:
                run.send(probe, probe=True)
            run.send_all(rest)
        finally:
            ledger.finished_at = time.time()
    ledger.put_in_order()
    return ledger


def load_ledger(text: str) -> Ledger:
    """A ledger from the JSON written by `scanium-e2e traffic --json-ledger`."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"the ledger is not JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise ConfigurationError("the ledger is not a JSON object.")
    return Ledger.from_json(data)
