"""The verdict for machines: JSON (`--scanium-verdict-json`) and a Markdown job summary
(`--scanium-summary-md`, or the file GitHub Actions names in GITHUB_STEP_SUMMARY).

Both are written from the same `Verdict` the terminal shows, and masked as they are
written (the session's Masker, else the masking policy of `secrets.mask_shapes`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from scanium_e2e.secrets import mask_shapes
from scanium_e2e.verdict.summary import PASSED, Verdict

_SHOWN = {PASSED: "data", "failed": "FAILED", "xfailed": "accepted by contract"}


def write_json(verdict: Verdict, path: Path, mask: Callable[[str], str] = mask_shapes) -> Path:
    """Write the verdict as JSON to `path` (folders created), masked; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(mask(json.dumps(verdict.as_json(), indent=2)) + "\n", encoding="utf-8")
    return path


def _cell(text: str) -> str:
    """`text` safe inside a Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def markdown(verdict: Verdict) -> str:
    """The job summary: the outcome, the table of causes (or what was proved), the hop
    ladder, and the per-panel results."""
    if verdict.green:
        lines = ["## scanium-e2e: passed", "", _cell(verdict.proved_line()), ""]
    else:
        lines = [
            "## scanium-e2e: failed",
            "",
            _cell(verdict.lines()[0]),
            "",
            "| tests | hop | kind | cause |",
            "| ---: | --- | --- | --- |",
        ]
        for group in verdict.causes:
            cause = group.cause
            lines.append(
                f"| {len(group.tests)} | {cause.hop if cause.hop is not None else ''} | "
                f"{_cell(cause.kind)} | {_cell(cause.sentence)} |"
            )
        lines.append("")
        ladder = next((group.ladder for group in verdict.causes if group.ladder), ())
        if ladder:
            lines += ["```", *(line.strip() for line in ladder), "```", ""]
    if verdict.rate_limits is not None:
        lines += ["**Rate limits:** " + _cell(verdict.rate_limits.note), ""]
    if verdict.deviations:
        lines += ["**Deviations from the contract:** " + _cell("; ".join(verdict.deviations)), ""]
    if verdict.panels:
        lines += ["### Dashboard panels", "", "| panel | result | why |", "| --- | --- | --- |"]
        for panel in verdict.panels:
            shown = _SHOWN.get(panel.outcome, panel.outcome)
            lines.append(f"| {_cell(panel.test)} | {shown} | {_cell(panel.sentence)} |")
        lines.append("")
    if verdict.outside:
        lines += ["### Not part of this stack (not checked)", ""]
        lines += [f"- {_cell(item)}" for item in verdict.outside]
        lines.append("")
    if verdict.unjudged:
        lines += ["### Not judged on this run (not checked)", ""]
        lines += [f"- {_cell(item)}" for item in verdict.unjudged]
        lines.append("")
    return "\n".join(lines)


def append_markdown(verdict: Verdict, path: Path, mask: Callable[[str], str] = mask_shapes) -> Path:
    """Append the job summary to `path`, masked (GitHub Actions gathers each step's
    appends)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(mask(markdown(verdict)) + "\n")
    return path
