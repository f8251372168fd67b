"""Alloy's WAL: its truncation knob in the test stack (section 6), its first read's time."""

from __future__ import annotations

import re

from benchmarks.verdict_bench import REPO_ROOT

# Section 6: Alloy's own WAL truncation period, as production runs it.
WAL_DEFAULT = {"SCANIUM_E2E_WAL_TRUNCATE_FREQUENCY": "2h"}

_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|µs|us|ns|m|s)")
_GO_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "ns": 1e-9}


def go_duration_s(text: str) -> float:
    """Seconds of a Go duration string such as `15.001697083s` or `1m2.5s`."""
    return sum(float(n) * _GO_UNITS[unit] for n, unit in _GO_DURATION.findall(text))


def alloy_wal_replay_s(log: str) -> float | None:
    """How long Alloy's remote-write WAL watcher took to send its first samples.

    Alloy v1.0 logs `Done replaying WAL ... duration=...` when the watcher first reads a
    sample newer than its start: with nothing notifying it of writes, that waits for its
    15 s read timeout (or for a new WAL segment).
    """
    match = re.search(r'msg="Done replaying WAL".*?duration=(\S+)', log)
    return go_duration_s(match.group(1)) if match else None


def wal_knob_present() -> bool:
    """Whether the test stack's Alloy config reads its WAL truncation period from the env.

    Alloy v1.0's remote_write never notifies its WAL watcher of new writes (fixed later,
    grafana/alloy#721), so the watcher reads the WAL only on its 15 s read timeout or
    when a new segment appears. A truncation starts a new segment: truncating every
    second (the test stack's setting) makes samples leave within about a second.
    """
    config = (REPO_ROOT / "fixtures" / "alloy" / "config.alloy").read_text(encoding="utf-8")
    return "SCANIUM_WAL_TRUNCATE_FREQUENCY" in config
