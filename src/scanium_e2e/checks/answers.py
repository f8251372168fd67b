"""The answers against the plan: every request got the answer its kind calls for.

The ledger notes what each answer said. Where the answer's own claim can be checked against
another observation, the sentence says both: an answer that claims the response cache
(`fromCache`) for a request with a fresh nonce is compared with the stub LLM's journal,
which shows whether the LLM was asked for it after all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scanium_e2e.findings import Finding, Kind
from scanium_e2e.traffic import Ledger, LedgerEntry
from scanium_e2e.traffic.ledger import FROM_CACHE_CLAIMED


def answer_finding(ledger: Ledger, journal: Sequence[dict[str, Any]] | None) -> Finding | None:
    """The answers other than the plan's, each as observed (None: all as planned).

    `journal`: the stub LLM's requests (None when the suite did not start the LLM)."""
    if not ledger.surprises:
        return None
    claims = {
        entry.deviation(): entry
        for entry in ledger.entries
        if entry.from_cache and entry.deviation() == _claim(entry)
    }
    sentences = [
        surprise if surprise not in claims else _with_journal(surprise, claims[surprise], journal)
        for surprise in ledger.surprises
    ]
    return Finding(
        Kind.ANSWER_NOT_PLANNED,
        subject="the backend",
        seen=str(len(sentences)),
        detail="; ".join(sentences),
        hop=1,
    )


def _claim(entry: LedgerEntry) -> str:
    return f"#{entry.seq} {entry.kind} ({entry.case}, nonce {entry.nonce}): {FROM_CACHE_CLAIMED}"


def _with_journal(
    surprise: str, entry: LedgerEntry, journal: Sequence[dict[str, Any]] | None
) -> str:
    if journal is None:
        return f"{surprise} (the deployment's LLM keeps no journal the suite can read)"
    asked = [item for item in journal if entry.nonce in str(item.get("text", ""))]
    if not asked:
        return f"{surprise}, and the stub LLM's journal has no request with that nonce"
    statuses = ", ".join(str(item.get("status", "?")) for item in asked)
    return (
        f"{surprise}, while the stub LLM's journal shows it was asked for this request and "
        f"answered HTTP {statuses}: the backend calls the LLM and still claims the cache"
    )
