"""The rule x scenario table and its JSON form."""

from __future__ import annotations

from collections.abc import Sequence

from scanium_e2e.alerts.judge import ScenarioVerdict

CELL_WIDTH = 60


def _cut(text: str, width: int = CELL_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def table(verdicts: Sequence[ScenarioVerdict]) -> str:
    """One row per rule, one column per scenario: its state there."""
    if not verdicts:
        return "(no scenario judged)"
    rules = verdicts[0].states
    header = ["rule", "format", *[v.name for v in verdicts]]
    rows = []
    for index, state in enumerate(rules):
        cells = [_cut(v.states[index].cell()) if index < len(v.states) else "" for v in verdicts]
        rows.append([_cut(state.rule.name, 44), f"{state.rule.format} {state.rule.kind}", *cells])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in [header, ["-" * w for w in widths], *rows]
    ]
    for verdict in verdicts:
        lines.extend(f"{verdict.name}: {line}" for line in verdict.accepted + verdict.notes)
    return "\n".join(lines)


def document(verdicts: Sequence[ScenarioVerdict], **extra: object) -> dict[str, object]:
    """Every scenario's verdict as JSON data."""
    return {"scenarios": [v.as_dict() for v in verdicts], **extra}
