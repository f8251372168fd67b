"""The one way to wait: poll a probe until a predicate holds, with a deadline.

Every wait in the suite goes through `poll`, so every timeout says the same kind of thing:
what was awaited, for how long, and the last observation. A probe can end the wait at once
by raising `HardError` (for example, Alloy reports that its scrape got HTTP 403), or it can
signal a passing fault with `TransientError` (connection refused while a service starts).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_delay,
    wait_fixed,
)

T = TypeVar("T")


class TransientError(Exception):
    """A probe failed in a way that may pass (service still starting): keep polling."""


class HardError(Exception):
    """A probe saw a failure that waiting will not cure: stop polling now.

    `reason` is the structured cause (a verdict Finding), carried to PollAborted so the
    check that fails can report it as data, not only as text.
    """

    def __init__(self, message: str, reason: object = None) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class PollResult(Generic[T]):
    """What a poll ended with."""

    ok: bool
    value: T | None
    last_seen: str
    attempts: int
    elapsed_s: float
    hard_error: str = ""


class PollTimeout(AssertionError):
    """The deadline passed without the predicate holding."""

    def __init__(self, what: str, result: PollResult[object], timeout_s: float) -> None:
        self.what = what
        self.result = result
        super().__init__(
            f"{what}: not reached within {timeout_s:g}s ({result.attempts} attempts); "
            f"last seen: {result.last_seen}"
        )


class PollAborted(AssertionError):
    """A probe raised HardError: the wait ended early."""

    def __init__(self, what: str, result: PollResult[object], reason: object = None) -> None:
        self.what = what
        self.result = result
        self.reason = reason
        super().__init__(f"{what}: {result.hard_error} (after {result.elapsed_s:.1f}s)")


@dataclass
class _Seen:
    attempts: int = 0
    last: str = "nothing yet"


def poll(
    probe: Callable[[], T],
    until: Callable[[T], bool],
    *,
    what: str,
    timeout_s: float,
    interval_s: float = 0.5,
    describe: Callable[[T], str] = repr,
    raise_on_timeout: bool = True,
) -> PollResult[T]:
    """Call `probe` every `interval_s` until `until(value)` is true or `timeout_s` passes.

    Returns the final PollResult. On timeout raises PollTimeout (unless `raise_on_timeout`
    is false); when the probe raises HardError, raises PollAborted at once.
    """
    started = time.monotonic()
    seen = _Seen()

    def attempt() -> tuple[bool, T | None]:
        seen.attempts += 1
        try:
            value = probe()
        except TransientError as exc:
            seen.last = f"error: {exc}"
            raise
        seen.last = describe(value)
        return until(value), value

    def on_give_up(retry_state: RetryCallState) -> tuple[bool, T | None]:
        outcome = retry_state.outcome
        if outcome is not None and not outcome.failed:
            return outcome.result()  # type: ignore[no-any-return]
        return False, None

    retrying = Retrying(
        stop=stop_after_delay(timeout_s),
        wait=wait_fixed(interval_s),
        retry=retry_if_result(lambda outcome: not outcome[0])
        | retry_if_exception_type(TransientError),
        retry_error_callback=on_give_up,
        reraise=False,
    )
    try:
        ok, value = retrying(attempt)
    except HardError as exc:
        aborted: PollResult[object] = PollResult(
            ok=False,
            value=None,
            last_seen=seen.last,
            attempts=seen.attempts,
            elapsed_s=time.monotonic() - started,
            hard_error=str(exc),
        )
        raise PollAborted(what, aborted, exc.reason) from None
    result = PollResult(
        ok=ok,
        value=value,
        last_seen=seen.last,
        attempts=seen.attempts,
        elapsed_s=time.monotonic() - started,
    )
    if not ok and raise_on_timeout:
        raise PollTimeout(what, result, timeout_s)  # type: ignore[arg-type]
    return result
