"""ExtraStacks: stacks beside the main one, started in the background, stopped together."""

from __future__ import annotations

import threading
from typing import Any, cast

import pytest

from scanium_e2e.errors import StackError
from scanium_e2e.external_run import ExternalRun
from scanium_e2e.session.extras import ExtraStacks
from scanium_e2e.stack.compose import ComposeStack


class FakeStack:
    """Records start and stop; `gate` holds start until the test lets it go."""

    def __init__(self, name: str, fail: bool = False) -> None:
        self.name = name
        self.fail = fail
        self.gate = threading.Event()
        self.gate.set()
        self.events: list[str] = []

    def start(self) -> None:
        self.gate.wait(5)
        self.events.append("start")
        if self.fail:
            raise StackError(f"{self.name} did not become ready")

    def stop(self) -> None:
        self.events.append("stop")


class FakeRun:
    def __init__(self, stack: FakeStack) -> None:
        self.stack = stack
        self.events: list[str] = []

    def start(self) -> FakeRun:
        # A run starts only once its stack is ready.
        assert self.stack.events == ["start"]
        self.events.append("start")
        return self

    def stop(self) -> None:
        self.events.append("stop")


def extras(stacks: dict[str, FakeStack], runs: dict[str, Any] | None = None) -> ExtraStacks:
    return ExtraStacks(cast(dict[str, ComposeStack], stacks), runs)


def test_start_returns_before_the_stacks_are_ready() -> None:
    slow = FakeStack("incident")
    slow.gate.clear()
    started = extras({"incident": slow})
    started.start()  # must not block on the held start
    assert slow.events == []
    slow.gate.set()
    assert started.get("incident") is cast(ComposeStack, slow)
    started.stop()
    assert slow.events == ["start", "stop"]


def test_a_run_starts_once_its_stack_is_ready_and_is_stopped_with_it() -> None:
    stack = FakeStack("external-proof")
    made: list[FakeRun] = []

    def factory(ready: ComposeStack) -> ExternalRun:
        made.append(FakeRun(cast(FakeStack, ready)))
        return cast(ExternalRun, made[-1])

    started = extras({"external-proof": stack}, {"external-proof": factory})
    started.start()
    assert started.run("external-proof") is cast(ExternalRun, made[0])
    started.stop()
    assert made[0].events == ["start", "stop"]
    assert stack.events == ["start", "stop"]


def test_a_stack_that_cannot_start_raises_where_it_is_needed_and_is_still_removed() -> None:
    broken, fine = FakeStack("incident", fail=True), FakeStack("other")
    started = extras({"incident": broken, "other": fine})
    started.start()
    with pytest.raises(StackError, match="did not become ready"):
        started.get("incident")
    assert started.get("other") is cast(ComposeStack, fine)
    started.stop()
    assert broken.events == ["start", "stop"] and fine.events == ["start", "stop"]


def test_stop_waits_for_a_start_under_way() -> None:
    slow = FakeStack("incident")
    slow.gate.clear()
    started = extras({"incident": slow})
    started.start()
    threading.Timer(0.2, slow.gate.set).start()
    started.stop()  # returns only after the start finished, then removes the stack
    assert slow.events == ["start", "stop"]


def test_no_extras_is_a_no_op() -> None:
    nothing = extras({})
    nothing.start()
    nothing.stop()
    assert "incident" not in nothing
