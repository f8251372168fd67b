"""Progress while a run works: one line per phase, as it happens.

Stack start (which images), each service ready (seconds), Alloy's first scrape, each
traffic wave, the counts settled, the panels replayed: the eleven seconds before the first
test result are not silent. The stages log through the standard `logging` module (as
testcontainers logs "waiting for ... to be ready"), at INFO for the stack under test and at
DEBUG for stacks beside it; the pytest plugin shows INFO lines on the terminal unless the
run is quiet (`-qq`). Nothing here holds a secret: callers log counts, names and seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

LOGGER = logging.getLogger("scanium_e2e.progress")
# Never into pytest's captured-log sections (nor a root handler): a progress line is not a
# failure's evidence, and it is shown once, through the handler `attach` adds.
LOGGER.propagate = False
LOGGER.addHandler(logging.NullHandler())
# pytest's verbosity at and below which no progress is shown (`-qq`).
QUIET = -2


def phase(message: str, *, main: bool = True) -> None:
    """Report one phase; `main` False for a stack beside the one under test (DEBUG)."""
    LOGGER.log(logging.INFO if main else logging.DEBUG, message)


def is_main(owner: object) -> bool:
    """Whether `owner` (a pipeline, a stack) belongs to the stack under test; anything that
    does not say (a test double) counts as such."""
    return bool(getattr(owner, "main", True))


class _LineHandler(logging.Handler):
    """Each record as one line, through `write` (the terminal reporter's)."""

    def __init__(self, write: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self._write = write

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._write(f"scanium-e2e: {record.getMessage()}")
        except Exception:  # a closed terminal must not fail the run
            self.handleError(record)


def attach(write: Callable[[str], None], *, verbosity: int) -> logging.Handler | None:
    """Show progress lines through `write`, unless `verbosity` is quiet; returns the
    handler to `detach` (None when quiet)."""
    if verbosity <= QUIET:
        return None
    handler = _LineHandler(write)
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.INFO)
    return handler


def detach(handler: logging.Handler | None) -> None:
    """Stop showing progress through `handler`."""
    if handler is not None:
        LOGGER.removeHandler(handler)
