"""Mutation harness: the real suite runs against every deliberately broken variant of the
stack (attached to it, in a subprocess) and must fail exactly the variant's expected tests,
each with the variant's expected hop and kind. Opt-in (`--mutations`; CI sets it): each
variant starts a stack.

The session's terminal summary shows the coverage table (selftest.table).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from scanium_e2e.pytest_plugin import record_section
from scanium_e2e.secrets import Masker
from scanium_e2e.selftest import (
    HARNESS,
    KILLED,
    UNMUTABLE,
    Variant,
    VariantResult,
    run_variants,
    table,
    unkilled,
)
from scanium_e2e.settings import Settings

pytestmark = [pytest.mark.late, pytest.mark.mutation]


@pytest.fixture(scope="module")
def results(
    settings: Settings,
    masker: Masker,
    tmp_path_factory: pytest.TempPathFactory,
    pytestconfig: pytest.Config,
) -> dict[str, VariantResult]:
    """Every variant's run, a few stacks at a time; the table goes to the summary."""
    if settings.external_mode or settings.attached:
        pytest.skip("mutation variants are started locally; this mode starts nothing")
    root = tmp_path_factory.mktemp("mutations")
    done = run_variants(settings, HARNESS, masker, root)
    ids = sorted({test_id for result in done for test_id in result.outcome.ids})
    record_section(pytestconfig, "mutation harness", table(done, ids))
    return {result.variant.name: result for result in done}


@pytest.mark.parametrize("variant", HARNESS, ids=[variant.name for variant in HARNESS])
def test_variant_is_killed_precisely(
    results: dict[str, VariantResult],
    variant: Variant,
    record_property: Callable[[str, object], None],
) -> None:
    """The suite fails against the variant: exactly its expected tests, each for its reason."""
    result = results[variant.name]
    record_property("verdict", result.verdict)
    record_property("seconds", round(result.seconds, 1))
    assert result.verdict == KILLED, table([result], [])


def test_every_suite_test_is_some_variant_s_kill(results: dict[str, VariantResult]) -> None:
    """No test of the suite is left that no variant kills, except those that cannot be."""
    ids = sorted({test_id for result in results.values() for test_id in result.outcome.ids})
    assert ids, "no variant's run reported any test"
    rest = unkilled(HARNESS, ids)
    assert set(rest) <= set(UNMUTABLE), rest
