"""No secrets or PII: canaries, fragments and secret shapes in labels, /metrics and logs.

The traffic plants canaries (fake keys, bearer tokens, e-mails, prompt text, query-string
secrets, header values, a reference in the stub LLM's error text). A leak is any canary,
any known secret, any fragment of one (6 characters or more, or its base64: `RunSecrets`),
or any secret-shaped string found in this run's series labels in the store, in the
backend's /metrics, or in the backend's and Alloy's logs. Reports never repeat the leaked
value: they show where, and a masked excerpt.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from scanium_e2e.clients.query import StoreClient
from scanium_e2e.errors import CheckFailed
from scanium_e2e.findings import Finding, Kind
from scanium_e2e.secrets import MASK, Masker, RunSecrets, find_secret_shapes


@dataclass(frozen=True)
class Leak:
    """One finding: where it was, what kind, and a masked excerpt."""

    where: str
    kind: str
    excerpt: str

    def describe(self) -> str:
        """One line for a failure message."""
        return f"{self.where}: {self.kind}: {self.excerpt}"


def _masked_excerpt(text: str, start: int, end: int) -> str:
    before = text[max(0, start - 40) : start]
    after = text[end : end + 40]
    return (before + MASK + after).replace("\n", " ")


def scan_text(where: str, text: str, secrets: RunSecrets) -> list[Leak]:
    """Every known secret or canary, every fragment of one, and every secret shape, in
    `text`."""
    leaks: list[Leak] = []
    whole = secrets.whole(text)
    for start, end in whole:
        leaks.append(Leak(where, "planted secret or canary", _masked_excerpt(text, start, end)))
    for start, end in secrets.fragments(text):
        if not any(begin <= start and end <= stop for begin, stop in whole):
            excerpt = _masked_excerpt(text, start, end)
            leaks.append(Leak(where, f"fragment of a run secret ({end - start} chars)", excerpt))
    for match in find_secret_shapes(text):
        leaks.append(Leak(where, f"{match.shape}-shaped text", match.excerpt))
    return leaks


def scan_lines(where: str, text: str, secrets: RunSecrets) -> list[Leak]:
    """`scan_text` line by line, naming the line number."""
    leaks: list[Leak] = []
    for number, line in enumerate(text.splitlines(), start=1):
        leaks.extend(scan_text(f"{where} line {number}", line, secrets))
    return leaks


def scan_series_labels(series: list[dict[str, str]], secrets: RunSecrets) -> list[Leak]:
    """Canaries, fragments and secret shapes in the label names and values of `series`."""
    leaks: list[Leak] = []
    seen: set[tuple[str, str]] = set()
    for labels in series:
        metric = labels.get("__name__", "?")
        for name, value in labels.items():
            if (name, value) in seen:
                continue
            seen.add((name, value))
            leaks.extend(
                scan_text(f"store label {metric}{{{name}=...}}", f"{name}={value}", secrets)
            )
    return leaks


def series_of_run(
    client: StoreClient, scope_matchers: str, start: datetime, end: datetime
) -> list[dict[str, str]]:
    """Every series of this run in the store (all metric names)."""
    return client.series("{" + scope_matchers + "}", start, end)


def series_over_budget(
    series: list[dict[str, str]], budget_for: dict[str, int], default: int
) -> dict[str, tuple[int, int]]:
    """Metric name -> (series count, budget) for every metric above its series budget."""
    counts = Counter(labels.get("__name__", "") for labels in series)
    return {
        name: (count, budget_for.get(name, default))
        for name, count in counts.items()
        if count > budget_for.get(name, default)
    }


def fail_on_leaks(what: str, leaks: list[Leak], masker: Masker) -> None:
    """Raise CheckFailed listing (masked) every leak, or return when there is none."""
    if leaks:
        lines = "\n".join("  " + leak.describe() for leak in leaks[:20])
        more = f"\n  (+{len(leaks) - 20} more)" if len(leaks) > 20 else ""
        finding = Finding(Kind.SECRET_LEAKED, subject=what, seen=str(len(leaks)))
        raise CheckFailed(masker.mask(f"{finding.render()}\n{lines}{more}"), (finding,))
