"""Mutation harness: every deliberately broken variant of the stack must fail a named check
with its named diagnosis. Opt-in (`--mutations`; CI sets it): each variant starts a stack.

The session's terminal summary reads `mutation harness: killed N/M`.
"""

from __future__ import annotations

import pytest

from scanium_e2e.contract import Contract
from scanium_e2e.pytest_plugin import record_mutation
from scanium_e2e.secrets import Masker
from scanium_e2e.selftest import VARIANTS, Variant, run_variant
from scanium_e2e.settings import Settings

pytestmark = pytest.mark.late


@pytest.mark.mutation
@pytest.mark.parametrize("variant", VARIANTS, ids=[variant.name for variant in VARIANTS])
def test_variant_is_killed(
    settings: Settings,
    contract: Contract,
    masker: Masker,
    variant: Variant,
    pytestconfig: pytest.Config,
) -> None:
    """The suite fails against the variant, at the expected check, for the expected reason."""
    if settings.external_mode:
        pytest.skip("mutation variants are started locally; external mode starts nothing")
    result = run_variant(settings, contract, variant, masker)
    record_mutation(pytestconfig, result.line())
    assert result.killed, (
        f"{variant.name} ({variant.breaks}) survived: expected check {variant.expect_check!r} "
        f"to fail with {variant.expect_diagnosis}; got check {result.check!r}:\n"
        f"{result.diagnosis}"
    )
