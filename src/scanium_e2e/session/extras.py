"""Stacks beside the session's own (the incident, the external-mode proof, deviations).

They start in the background once the main stack is ready: the main stack's start-up gets
the machine to itself, and theirs overlaps the seconds the main stack spends waiting for
Alloy's first scrape. Tests that need one wait for it (`get`); an external-mode proof
attached to one starts the moment its stack is ready (`run`). `stop` waits for starts
still under way, then removes every stack at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait

from scanium_e2e.external_run import ExternalRun
from scanium_e2e.stack.compose import ComposeStack

# Builds the external run to start once a stack is ready.
RunFactory = Callable[[ComposeStack], ExternalRun]


class ExtraStacks:
    """Named stacks started in the background; external runs started when theirs is ready."""

    def __init__(
        self, stacks: Mapping[str, ComposeStack], runs: Mapping[str, RunFactory] | None = None
    ) -> None:
        self.stacks = dict(stacks)
        self._factories = dict(runs or {})
        self._runs: dict[str, ExternalRun] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._started: dict[str, Future[ComposeStack]] = {}

    def __contains__(self, name: str) -> bool:
        return name in self.stacks

    def start(self, names: Iterable[str] | None = None) -> None:
        """Start the stacks `names` (default: every one not started yet), each in its own
        thread; returns at once."""
        pending = [
            name
            for name in (self.stacks if names is None else names)
            if name in self.stacks and name not in self._started
        ]
        if not pending:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=len(self.stacks), thread_name_prefix="extra-stack"
            )
        for name in pending:
            self._started[name] = self._pool.submit(self._start_one, name)

    def _start_one(self, name: str) -> ComposeStack:
        stack = self.stacks[name]
        stack.start()
        factory = self._factories.get(name)
        if factory is not None:
            self._runs[name] = factory(stack).start()
        return stack

    def get(self, name: str) -> ComposeStack:
        """The stack `name` once ready; re-raises the error that kept it from starting."""
        return self._started[name].result()

    def run(self, name: str) -> ExternalRun:
        """The external run attached to stack `name`, started once the stack was ready."""
        self.get(name)
        return self._runs[name]

    def stop(self) -> None:
        """Let starts under way finish, kill external runs still going, remove all stacks."""
        wait(list(self._started.values()))
        for run in self._runs.values():
            run.stop()
        stacks = list(self.stacks.values())
        if stacks:
            with ThreadPoolExecutor(max_workers=len(stacks)) as pool:
                for future in [pool.submit(stack.stop) for stack in stacks]:
                    future.result()
        if self._pool is not None:
            self._pool.shutdown()
