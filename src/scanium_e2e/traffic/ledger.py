"""The ledger: exactly what was sent and what came back.

What the metrics must show follows from what was sent and the contract
(`scanium_e2e.expectations`), not from the answers, so a backend that mislabels its own
outcome cannot make its metrics look right. Every difference between plan and answer (a
planned success answered with an `assistantError`, a 429 past the retry budget) is written
to `surprises`, so a check can compare the store with the ledger and still explain an odd run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Final, cast

from scanium_e2e.errors import ConfigurationError
from scanium_e2e.traffic.canaries import Canaries
from scanium_e2e.traffic.plan import KINDS, Kind

TOKEN_TYPES: Final = ("input", "output", "total")

# What each kind must get back: HTTP status and, when not None, the error code.
EXPECTED_ANSWER: Final[Mapping[str, tuple[int, str | None]]] = {
    "success": (200, None),
    "cache_repeat": (200, None),
    "provider_error": (200, None),
    "validation_error": (400, "VALIDATION_ERROR"),
    "unauthorized": (401, "UNAUTHORIZED"),
    "unknown_route": (404, None),
}


# Request positions a rate-limit note names; the rest are counted.
_SHOWN_SEQS: Final = 6
# What an answer to a request with a fresh nonce says when it claims the response cache:
# the claim only (the LLM's journal, where there is one, says whether it was asked).
FROM_CACHE_CLAIMED: Final = "the answer says fromCache despite the request's unique nonce"


@dataclass(frozen=True)
class LedgerEntry:
    """One request as sent and as answered (after any 429 retries)."""

    seq: int
    kind: Kind
    case: str
    nonce: str
    fault: str | None
    planned_input_tokens: int | None
    planned_output_tokens: int | None
    # None when no answer came (timeout, connection dropped); see transport_error.
    http_status: int | None
    # The backend's `error.code`, or the `assistantError.reasonCode` of a 200.
    code: str
    # `assistantError.type` of a 200 answered with a fallback reply, else "".
    error_type: str
    assistant_error: bool
    from_cache: bool | None
    latency_ms: float
    retries: int
    sent_at: float
    transport_error: str = ""
    canaries: tuple[str, ...] = ()
    # Milliseconds the stub LLM was told to wait before answering this request.
    stub_delay_ms: int = 0
    # The remaining (requests, tokens) the stub's answer was told to state in its headers.
    planned_rate_limits: tuple[int, int] | None = None
    # The request's method and path (never its query string).
    method: str = ""
    path: str = ""

    def describe_answer(self) -> str:
        """`200`, `200 assistantError provider_error/X`, `400 VALIDATION_ERROR`, ..."""
        if self.http_status is None:
            return f"no answer ({self.transport_error or 'unknown transport error'})"
        text = str(self.http_status)
        if self.assistant_error:
            text += f" assistantError {self.error_type or '?'}/{self.code or '?'}"
        elif self.code:
            text += f" {self.code}"
        if self.from_cache:
            text += " fromCache"
        if self.retries:
            text += f" after {self.retries} {'retry' if self.retries == 1 else 'retries'}"
        return text

    def deviation(self) -> str | None:
        """Why this answer is not the one the plan meant, or None when it is."""
        label = f"#{self.seq} {self.kind} ({self.case}, nonce {self.nonce})"
        status, code = EXPECTED_ANSWER[self.kind]
        got = self.describe_answer()
        if self.http_status is None:
            return f"{label}: {got}"
        if self.kind == "success":
            if self.http_status == 200 and not self.assistant_error:
                if self.from_cache:
                    return f"{label}: {FROM_CACHE_CLAIMED}"
                return None
            return f"{label}: expected 200 with a reply, got {got}"
        if self.kind == "cache_repeat":
            if self.http_status == 200 and not self.assistant_error and self.from_cache:
                return None
            return (
                f"{label}: expected 200 answered from the response cache (it repeats the "
                f"first success), got {got}"
            )
        if self.kind == "provider_error":
            if self.http_status == 200 and self.assistant_error:
                return None
            return (
                f"{label}: expected 200 with an assistantError (stub fault {self.fault}), got {got}"
            )
        if self.http_status == status and (code is None or self.code == code):
            return None
        expected = f"{status} {code}" if code else str(status)
        return f"{label}: expected {expected}, got {got}"

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form."""
        data = asdict(self)
        data["canaries"] = list(self.canaries)
        if self.planned_rate_limits is not None:
            data["planned_rate_limits"] = list(self.planned_rate_limits)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LedgerEntry:
        """Inverse of `to_json`; raise ConfigurationError on a malformed entry."""
        names = {spec.name for spec in fields(cls)}
        try:
            values = {name: data[name] for name in names if name in data}
            values["canaries"] = tuple(values.get("canaries", ()))
            limits = values.get("planned_rate_limits")
            if limits is not None:
                requests, tokens = limits
                values["planned_rate_limits"] = (int(requests), int(tokens))
            if values.get("kind") not in KINDS:
                raise ValueError(f"unknown kind {values.get('kind')!r}")
            return cls(**values)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"malformed ledger entry: {exc}.") from None


@dataclass
class Ledger:
    """One traffic run. Filled in by `send_traffic`; read by the checks."""

    run_id: str
    provider: str
    base_url: str
    started_at: float
    finished_at: float = 0.0
    entries: list[LedgerEntry] = field(default_factory=list)
    surprises: list[str] = field(default_factory=list)
    canaries: Canaries | None = None
    # What the backend's /health says it uses, when it says so.
    backend_provider: str | None = None
    # Seconds spent waiting on 429 Retry-After.
    retry_wait_s: float = 0.0
    # Every HTTP 429 answer, by the limit it names (a RateLimit-Policy header, else the
    # answer's code and message), masked: which limit held the run, and how often.
    rate_limits: dict[str, int] = field(default_factory=dict)
    # The HTTP 429 answers that carried a Retry-After header the sender could read.
    retry_after_answers: int = 0

    def note_rate_limit(self, limit: str, *, retry_after: bool = False) -> None:
        """Count one HTTP 429 answer under the limit it names (and whether it said when to
        retry)."""
        self.rate_limits[limit] = self.rate_limits.get(limit, 0) + 1
        self.retry_after_answers += retry_after

    @property
    def rate_limited_seqs(self) -> list[int]:
        """The plan positions of the requests that got at least one HTTP 429."""
        return [entry.seq for entry in self.entries if entry.retries or entry.http_status == 429]

    def rate_limit_summary(self) -> dict[str, Any] | None:
        """The rate limits as data (the verdict JSON), or None when none held the run."""
        answers = sum(self.rate_limits.values())
        if not answers and not self.rate_limited_seqs:
            return None
        return {
            "answers_429": answers,
            "requests": self.rate_limited_seqs,
            "limits": dict(sorted(self.rate_limits.items())),
            "retry_after_answers": self.retry_after_answers,
            "waited_s": round(self.retry_wait_s, 1),
        }

    def rate_limit_note(self) -> str:
        """`rate limited: 7 answers HTTP 429 on 3 requests (#2, #5, #9; limit x7); Retry-After
        on 7 of 7; 12.0 s waited before retrying`, or "" when no request was rate limited."""
        summary = self.rate_limit_summary()
        if summary is None:
            return ""
        answers, seqs = summary["answers_429"], summary["requests"]
        shown = ", ".join(f"#{seq}" for seq in seqs[:_SHOWN_SEQS])
        if len(seqs) > _SHOWN_SEQS:
            shown += f" and {len(seqs) - _SHOWN_SEQS} more"
        said = "; ".join(f"{limit} x{n}" for limit, n in summary["limits"].items())
        told = self.retry_after_answers
        if not told:
            header = "no Retry-After (the waits are the sender's backoff)"
        elif told == answers:
            header = f"Retry-After on {'all ' if answers > 1 else ''}{answers}"
        else:
            header = f"Retry-After on {told} of {answers} (the rest waited the sender's backoff)"
        return (
            f"rate limited: {answers} answer{'s' if answers != 1 else ''} HTTP 429 on "
            f"{len(seqs)} request{'s' if len(seqs) != 1 else ''} ({shown}"
            + (f"; {said}" if said else "")
            + f"); {header}; {self.retry_wait_s:.1f} s waited before retrying"
        )

    def __repr__(self) -> str:
        # One line in a traceback: the entries are in the summary and the artifacts.
        return f"Ledger({self.run_id}: {len(self.entries)} requests to {self.base_url})"

    def record(self, entry: LedgerEntry) -> None:
        """Add one answered request, noting a surprise when it deviates from the plan."""
        self.entries.append(entry)
        deviation = entry.deviation()
        if deviation is not None:
            self.surprises.append(deviation)

    def put_in_order(self) -> None:
        """Sort entries by plan position; run-level surprises first, then per request.

        Workers finish in any order; a sorted ledger reads (and diffs) the same every run.
        """
        self.entries.sort(key=lambda entry: entry.seq)
        per_request = [d for d in (entry.deviation() for entry in self.entries) if d is not None]
        known = set(per_request)
        self.surprises = [s for s in self.surprises if s not in known] + per_request

    @property
    def duration_s(self) -> float:
        """Wall time of the run."""
        return max(0.0, self.finished_at - self.started_at)

    @property
    def retries(self) -> int:
        """429 retries over all requests."""
        return sum(entry.retries for entry in self.entries)

    def planted(self) -> list[str]:
        """Every canary value planted by this run (empty without canaries)."""
        return self.canaries.values() if self.canaries is not None else []

    def count(self, kind: str) -> int:
        """Requests of `kind` in the ledger."""
        return sum(1 for entry in self.entries if entry.kind == kind)

    def summary(self, expected: Sequence[tuple[str, float]] | None = None) -> str:
        """A table of what was sent and answered, the expected increases and the surprises.

        `expected` (series selector, increase) comes from `scanium_e2e.expectations`, which
        knows the contract's metric names; without it that section is left out. Holds no
        secret and no canary value: safe to print (still, print through a Masker).
        """
        lines = [
            f"traffic run {self.run_id} to {self.base_url} (provider {self.provider}): "
            f"{len(self.entries)} requests in {self.duration_s:.1f} s, {self.retries} "
            f"429 {'retry' if self.retries == 1 else 'retries'} "
            f"({self.retry_wait_s:.1f} s waited)",
            *([self.rate_limit_note()] if self.rate_limit_note() else []),
            "",
            f"{'kind':<18}{'sent':>6}{'as planned':>12}  answers",
        ]
        for kind in KINDS:
            entries = [entry for entry in self.entries if entry.kind == kind]
            if not entries:
                continue
            as_planned = sum(1 for entry in entries if entry.deviation() is None)
            answers = Counter(_answer_class(entry) for entry in entries)
            shown = ", ".join(f"{answer} x{n}" for answer, n in sorted(answers.items()))
            lines.append(f"{kind:<18}{len(entries):>6}{as_planned:>12}  {shown}")
        if expected is not None:
            lines += ["", "expected increase in the backend's metrics:"]
            if not expected:
                lines.append("  (nothing: the plan sent no request the assistant counts)")
            rows = [(f"{n:g}", name) for name, n in expected]
            width = max((len(n) for n, _ in rows), default=0)
            lines += [f"  {n:>{width}}  {name}" for n, name in rows]
        if self.canaries is not None:
            carriers = sum(1 for entry in self.entries if entry.canaries)
            lines += [
                "",
                f"canaries planted: {len(self.planted())} values in {carriers} extra requests "
                "(never shown)",
            ]
        lines += ["", f"surprises: {len(self.surprises) or 'none'}"]
        lines += [f"  - {surprise}" for surprise in self.surprises]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form (the CLI adds the expected increases under the contract in use).

        It contains the canary values (their purpose is to be searched for) but never the
        API key or bearer token, which the ledger does not hold.
        """
        return {
            "run_id": self.run_id,
            "provider": self.provider,
            "base_url": self.base_url,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "backend_provider": self.backend_provider,
            "retry_wait_s": self.retry_wait_s,
            "rate_limits": dict(self.rate_limits),
            "retry_after_answers": self.retry_after_answers,
            "entries": [entry.to_json() for entry in self.entries],
            "surprises": list(self.surprises),
            "canaries": self.canaries.named() if self.canaries is not None else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Ledger:
        """Inverse of `to_json` (an `expected` section is derived, so it is ignored)."""
        try:
            raw_canaries = data.get("canaries")
            ledger = cls(
                run_id=str(data["run_id"]),
                provider=str(data["provider"]),
                base_url=str(data["base_url"]),
                started_at=float(data["started_at"]),
                finished_at=float(data["finished_at"]),
                entries=[LedgerEntry.from_json(entry) for entry in data["entries"]],
                surprises=[str(surprise) for surprise in data["surprises"]],
                canaries=(
                    Canaries.from_named(cast(Mapping[str, object], raw_canaries))
                    if isinstance(raw_canaries, Mapping)
                    else None
                ),
                backend_provider=data.get("backend_provider"),
                retry_wait_s=float(data.get("retry_wait_s", 0.0)),
                rate_limits={str(k): int(v) for k, v in dict(data.get("rate_limits", {})).items()},
                retry_after_answers=int(data.get("retry_after_answers", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"malformed ledger: {type(exc).__name__} {exc}.") from None
        return ledger


def _answer_class(entry: LedgerEntry) -> str:
    """The answer without per-request detail, for the summary's counts."""
    if entry.http_status is None:
        return "no answer"
    if entry.assistant_error:
        return f"200+assistantError {entry.error_type}/{entry.code}"
    return f"{entry.http_status} {entry.code}".strip()
