"""A closed world of labels: every series of every family the contract names carries
exactly its labels, every label value comes from its vocabulary, and a label without one
holds no free text, long value or URL with a query string.

The label-set test has one id per family (an extra or missing label belongs to a family);
the vocabulary test one per label (a label's values are computed once, whatever family
carries it), plus `unlisted` for the labels without a vocabulary entry. Both judge the
backend's /metrics and the store at once (checks/labels.py). The leak scans
(test_no_secrets.py) judge the same labels for secrets, fragments of them and secret shapes.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from scanium_e2e.checks.labels import (
    UNLISTED,
    Exposure,
    fail_on_findings,
    label_set_findings,
    nothing_judged,
    run_exposures,
    unjudgeable,
    unlisted_findings,
    value_findings,
)
from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.errors import CheckFailed
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.suite_plugin import collection_contract
from scanium_e2e.traffic.run import TrafficRun


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One label-set test per family, one vocabulary test per label of the contract."""
    if "family" in metafunc.fixturenames:
        metafunc.parametrize("family", list(collection_contract(metafunc.config).families))
    if "label" in metafunc.fixturenames:
        metafunc.parametrize("label", [*collection_contract(metafunc.config).vocabulary, UNLISTED])


@pytest.fixture(scope="module")
def exposures(pipeline: Pipeline, settlement: CountSettlement) -> list[Exposure]:
    """The backend's /metrics and this run's series in the store, after the traffic."""
    return run_exposures(pipeline, settlement)


def test_series_carry_exactly_the_contract_labels(
    pipeline: Pipeline, exposures: list[Exposure], family: str, waive: Callable[[str], None]
) -> None:
    """Every series of the family, in /metrics and in the store, carries exactly the
    contract's labels (and the ones the pipeline adds, read from the Alloy config)."""
    contract = pipeline.contract
    reason = unjudgeable(family, pipeline, exposures)
    if reason is not None:
        # No series at all: nothing was judged, which is no pass.
        if family == "errors" and not contract.failures.error_counter:
            waive(
                f"the backend has no {contract.errors.name} "
                f"({contract.source}: failures.error_counter=false)"
            )
        raise CheckFailed(reason.render(), (reason,))
    findings = label_set_findings(family, contract, exposures, pipeline.masker)
    fail_on_findings(f"labels of {contract.families[family].name}", findings)


def test_label_values_come_from_their_vocabulary(
    pipeline: Pipeline,
    traffic: TrafficRun,
    exposures: list[Exposure],
    label: str,
    waive: Callable[[str], None],
) -> None:
    """Every value of the label, on every family that carries it, is in its vocabulary
    (provider: the ledger's too); `unlisted`: a label without a vocabulary entry follows
    the default policy."""
    contract = pipeline.contract
    if label == UNLISTED:
        findings, _ = unlisted_findings(contract, exposures, pipeline.masker)
        fail_on_findings("labels without a vocabulary entry", findings)
        return
    # In a stack of our own every assistant series comes from this run's traffic.
    own = not pipeline.settings.external_mode and label == "provider"
    findings, judged = value_findings(
        label,
        contract,
        exposures,
        pipeline.masker,
        justified=[traffic.ledger.provider] if own else None,
    )
    if not judged:
        carriers = {
            role
            for role, spec in contract.families.items()
            if label in (*spec.labels, *spec.optional_labels)
        }
        if carriers == {"errors"} and not contract.failures.error_counter:
            waive(
                f"`{label}` is a label of {contract.errors.name}, which the backend lacks "
                f"({contract.source}: failures.error_counter=false)"
            )
        findings = [nothing_judged(label, contract)]
    fail_on_findings(f"values of {label}", findings)
