"""What a traffic run sends: `TrafficPlan`, validated when it is built."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, get_args

from scanium_e2e.contract import STUB_FAULTS
from scanium_e2e.contract import StubFault as Fault
from scanium_e2e.errors import ConfigurationError

Kind = Literal[
    "success", "cache_repeat", "provider_error", "validation_error", "unauthorized", "unknown_route"
]
KINDS: Final[tuple[str, ...]] = get_args(Kind)

# The stub LLM's fault markers (`[[stub:fault=...]]`), defined with the contract's faults.
FAULTS: Final[tuple[str, ...]] = STUB_FAULTS
__all__ = ["FAULTS", "KINDS", "Fault", "Kind", "TrafficPlan", "probe_delays_ms"]
# The stub LLM's largest `[[stub:delay_ms=N]]`.
MAX_STUB_DELAY_MS: Final = 600_000

# Run ids and provider labels travel in headers and message text: keep them plain.
_RUN_ID: Final = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_PROVIDER: Final = re.compile(r"^[a-z0-9_-]{1,32}$")


@dataclass(frozen=True, kw_only=True)
class TrafficPlan:
    """How many requests of each kind to send, and how.

    The defaults give a small run whose token observations land in distinct histogram
    buckets (input 120 -> le=250, output 45 -> le=50, total 165 -> le=250).
    """

    api_key: str = field(repr=False)
    run_id: str
    provider: str = "openai"
    successes: int = 10
    # Requests identical to the first success (the probe, answered before any other is
    # sent), which the backend's response cache must answer: the cache path runs.
    cache_repeats: int = 0
    provider_errors: int = 2
    # Provider error i uses faults[i % len(faults)].
    faults: tuple[str, ...] = ("500",)
    validation_errors: int = 4
    unauthorized: int = 1
    # Each to a path of its own: the backend must label them all as one unmatched route.
    unknown_route: int = 3
    input_tokens: int = 120
    output_tokens: int = 45
    # Latency the stub LLM adds (`[[stub:delay_ms=N]]`), in milliseconds: the i-th success
    # after the probe waits success_delays_ms[i], the i-th provider error
    # error_delays_ms[i]; the rest wait nothing. Known delays let a check see where each
    # latency observation must land (a unit error cannot pass).
    success_delays_ms: tuple[int, ...] = ()
    error_delays_ms: tuple[int, ...] = ()
    # The (remaining requests, remaining tokens) every success's LLM answer states in its
    # rate-limit headers (`[[stub:ratelimit=R,T]]`): the backend's rate-limit gauges must
    # show them once it has read one (None: the stub sends no such headers).
    rate_limits: tuple[int, int] | None = None
    concurrency: int = 4
    # Requests per second over the whole run (retries included); None sends as fast as
    # the concurrency allows.
    max_rate: float | None = None
    bearer_token: str = field(default="", repr=False)
    canaries: bool = False
    # Total time the run may spend waiting on 429 Retry-After before it gives up.
    retry_budget_s: float = 120.0
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not self.api_key:
            problems.append("an API key is required")
        if not _RUN_ID.match(self.run_id):
            problems.append("run_id must be 1-64 characters of letters, digits and ._:-")
        if not _PROVIDER.match(self.provider):
            problems.append("provider must be a lower-case label such as openai or claude")
        for name in (
            "successes",
            "cache_repeats",
            "provider_errors",
            "validation_errors",
            "unauthorized",
            "unknown_route",
            "input_tokens",
            "output_tokens",
        ):
            if getattr(self, name) < 0:
                problems.append(f"{name} must not be negative")
        if self.rate_limits is not None and (
            len(self.rate_limits) != 2 or min(self.rate_limits) < 0
        ):
            problems.append("rate_limits must be two non-negative numbers (requests, tokens)")
        for name in ("success_delays_ms", "error_delays_ms"):
            if any(not 0 <= delay <= MAX_STUB_DELAY_MS for delay in getattr(self, name)):
                problems.append(f"{name} must be between 0 and {MAX_STUB_DELAY_MS} ms")
        if self.cache_repeats and not self.successes:
            problems.append("cache repeats repeat the first success: the plan needs one")
        if self.provider_errors and not self.faults:
            problems.append("provider errors need at least one fault")
        unknown = [fault for fault in self.faults if fault not in FAULTS]
        if unknown:
            problems.append(f"unknown fault {unknown[0]!r} (use {', '.join(FAULTS)})")
        if self.concurrency < 1:
            problems.append("concurrency must be at least 1")
        if self.max_rate is not None and not (self.max_rate > 0 and math.isfinite(self.max_rate)):
            problems.append("max_rate must be a positive number of requests per second")
        if self.retry_budget_s < 0:
            problems.append("retry_budget_s must not be negative")
        if not self.timeout_s > 0:
            problems.append("timeout_s must be positive")
        if problems:
            raise ConfigurationError("invalid traffic plan: " + "; ".join(problems) + ".")

    def fault_for(self, index: int) -> str:
        """The fault of the `index`-th provider error (cycling through `faults`)."""
        return self.faults[index % len(self.faults)]

    def success_delay(self, index: int) -> int:
        """The stub delay of the `index`-th success (0 is the probe, never delayed)."""
        return _nth(self.success_delays_ms, index - 1)

    def error_delay(self, index: int) -> int:
        """The stub delay of the `index`-th provider error."""
        return _nth(self.error_delays_ms, index)


def probe_delays_ms(bounds_ms: Sequence[float], longest_ms: float = 1000.0) -> tuple[int, ...]:
    """Stub delays that land one request in each latency bucket up to `longest_ms`.

    One delay per bucket (lower, upper] with upper <= longest_ms, a tenth of the way in:
    the request takes at least that long, and the backend's and network's overhead has
    nine tenths of the bucket to stay inside it. For 50, 100, 250, 500, 1000 ms:
    55, 115, 275, 550.
    """
    uppers = sorted(bound for bound in bounds_ms if 0 < bound <= longest_ms)
    return tuple(
        math.ceil(lower + (upper - lower) / 10) for lower, upper in itertools.pairwise(uppers)
    )


def _nth(delays: tuple[int, ...], index: int) -> int:
    return delays[index] if 0 <= index < len(delays) else 0
