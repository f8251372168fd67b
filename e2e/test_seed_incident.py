"""The seed incident must be caught: /metrics missing from the HTTPS exempt list.

A second stack runs with the backend's exempt list as it was before the fix. `up == 1`
must then fail within seconds, naming HTTP 403 and the broken hop.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from scanium_e2e.checks.scrape import wait_for_up
from scanium_e2e.contract import Contract
from scanium_e2e.errors import CheckFailed
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.secrets import Masker
from scanium_e2e.stack.compose import ComposeStack


@pytest.fixture(scope="module")
def incident_pipeline(
    incident_stack: ComposeStack, contract: Contract, masker: Masker
) -> Iterator[Pipeline]:
    """Clients over the stack whose backend does not exempt /metrics from HTTPS."""
    pipeline = Pipeline.connect(incident_stack.settings, contract, incident_stack, masker)
    yield pipeline
    pipeline.close()


def test_up_check_names_http_403_and_fails_fast(
    incident_pipeline: Pipeline, record_property: Callable[[str, object], None]
) -> None:
    """`up == 1` fails on a hard error, not a timeout, and says the scrape got HTTP 403."""
    started = time.monotonic()
    with pytest.raises(CheckFailed) as caught:
        wait_for_up(incident_pipeline)
    record_property("time_to_diagnosis_s", round(time.monotonic() - started, 2))
    message = str(caught.value)
    assert "HTTP 403" in message, message
    assert "Alloy's scrape of scanium-backend:8080/metrics got HTTP 403" in message, message
    assert "Broken hop: 1. backend /metrics" in message, message
    assert "HTTPS_REQUIRED" in message, message
    # Ended by the hard error, not by waiting out the deadline (benchmarks time it).
    assert "not reached within" not in message, message
