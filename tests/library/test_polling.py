"""The one polling helper: deadline, hard errors, transient errors, last observation."""

from __future__ import annotations

import time

import pytest

from scanium_e2e.polling import HardError, PollAborted, PollTimeout, TransientError, poll


def test_returns_when_predicate_holds() -> None:
    values = iter([0, 1, 2, 3])
    result = poll(
        lambda: next(values), lambda v: v >= 2, what="count", timeout_s=5, interval_s=0.01
    )
    assert result.ok and result.value == 2 and result.attempts == 3


def test_timeout_names_what_and_last_seen() -> None:
    with pytest.raises(PollTimeout) as caught:
        poll(
            lambda: 7,
            lambda v: v == 1,
            what="up == 1",
            timeout_s=0.2,
            interval_s=0.05,
            describe=lambda v: f"value {v}",
        )
    message = str(caught.value)
    assert "up == 1" in message and "last seen: value 7" in message


def test_hard_error_ends_the_wait_at_once() -> None:
    def probe() -> int:
        raise HardError("Alloy's scrape got HTTP 403")

    started = time.monotonic()
    with pytest.raises(PollAborted) as caught:
        poll(probe, lambda v: True, what="up", timeout_s=30, interval_s=0.01)
    assert time.monotonic() - started < 1
    assert "HTTP 403" in str(caught.value)


def test_transient_errors_are_retried_and_reported() -> None:
    calls = {"n": 0}

    def probe() -> int:
        calls["n"] += 1
        if calls["n"] < 3:
            raise TransientError("connection refused")
        return 1

    assert poll(probe, lambda v: v == 1, what="x", timeout_s=5, interval_s=0.01).value == 1

    def always_down() -> int:
        raise TransientError("connection refused")

    with pytest.raises(PollTimeout, match="last seen: error: connection refused"):
        poll(always_down, lambda v: True, what="x", timeout_s=0.1, interval_s=0.02)


def test_no_raise_returns_failed_result() -> None:
    result = poll(
        lambda: 0,
        lambda v: v == 1,
        what="x",
        timeout_s=0.1,
        interval_s=0.02,
        raise_on_timeout=False,
    )
    assert not result.ok and result.value == 0
