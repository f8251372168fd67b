"""Shared constants of the dashboard checker tests: the check window and folders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

JSON_DIR = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]
END = datetime(2026, 11, 26, 10, 15, tzinfo=UTC)
START = END - timedelta(minutes=15)
