"""Text tables of the report: the generic table, and the phases-by-run table of section 1."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.verdict_bench.common import ROLES, fmt_s


def table(rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned text table with a rule under the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def verdict_table(runs: Sequence[Mapping[str, Any]]) -> str:
    """Phases (rows) by run (columns)."""

    def cell(run: Mapping[str, Any], *path: str) -> str:
        value: Any = run
        for key in path:
            if not isinstance(value, Mapping) or key not in value:
                return "-"
            value = value[key]
        return fmt_s(value)

    header = ["phase (library, not timed asserts)", *(str(run["label"]) for run in runs)]
    rows = [header]
    spec: list[tuple[str, tuple[str, ...]]] = [
        ("stack start: compose up -> all ready", ("start", "start_to_ready_s")),
        ("  leftovers removed", ("start", "cleanup_s")),
        ("  docker compose up", ("start", "compose_up_s")),
        ("  readiness probes", ("start", "readiness_s")),
        ("first green: ready -> up == 1 in Mimir", ("first_green", "s")),
        ("  (Alloy: first WAL read, from its start)", ("alloy_wal_replay_s",)),
        ("traffic: run_traffic", ("traffic", "s")),
        ("  wave 1 sent", ("traffic", "wave1_send_s")),
        ("  wave 1 gate (scraped; external: in the store)", ("traffic", "wave1_gate_s")),
        ("  wave 2 sent", ("traffic", "wave2_send_s")),
        ("all count checks green", ("checks", "s")),
        *((f"  {role}", ("checks", "by_role_s", role)) for role in ROLES),
        ("TOTAL: compose up -> verdict", ("total_s",)),
        ("(teardown, not in total)", ("teardown_s",)),
    ]
    for name, path in spec:
        rows.append([name, *(cell(run, *path) if run.get("ok") else "FAILED" for run in runs)])
    return table(rows)
