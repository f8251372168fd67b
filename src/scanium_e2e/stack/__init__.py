"""A stack is either started (Testcontainers + docker-compose.test.yml) or attached to.

Both kinds expose the same `StackEndpoints`, so checks never care which one they have.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from scanium_e2e.stack.alloy_config import PipelineComponents


@dataclass(frozen=True)
class StackEndpoints:
    """Where the suite reaches each hop of the pipeline from the host."""

    backend_url: str
    alloy_url: str
    mimir_url: str
    # The stub LLM's URL when the suite started it (its journal knows the exact usage).
    stub_url: str = ""
    # The address Alloy scrapes, as Alloy names it in its target list.
    scrape_target: str = "scanium-backend:8080"
    # Where the backend pushes its OTLP metrics and spans, as it is told to ("" unknown).
    otlp_endpoint: str = ""


class Stack(Protocol):
    """What the suite needs from a running stack."""

    endpoints: StackEndpoints
    # The components of the user's Alloy config the suite verifies (None: the contract's).
    components: PipelineComponents | None

    @property
    def started_here(self) -> bool:
        """True when this run started the stack (logs and restarts are ours to read)."""
        ...

    def logs(self, service: str, *, masked: bool = True) -> str:
        """The full log of one service ('' when the stack was not started here)."""
        ...

    def save_logs(self, folder: Path) -> list[Path]:
        """Write every service's log into `folder`; returns the files written."""
        ...

    def stop(self) -> None:
        """Tear down what this run started; idempotent."""
        ...
