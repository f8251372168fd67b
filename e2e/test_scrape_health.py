"""Scrape health: Alloy scrapes the backend and Mimir has `up == 1` for it."""

from __future__ import annotations

from scanium_e2e.checks import wait_for_up
from scanium_e2e.pipeline import Pipeline


def test_up_is_1_in_mimir(pipeline: Pipeline) -> None:
    """The seed's first verification: up{job="scanium-backend"} == 1."""
    result = wait_for_up(pipeline)
    assert result.value and any(sample.value == 1 for sample in result.value)
