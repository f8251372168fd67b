"""The checks as named objects (checks/registry.py): every test of the suite is one, every
one has its test, and the rest of the suite refers to them by name."""

from __future__ import annotations

import json

import pytest
from suite_ids import collected_ids

from scanium_e2e.checks.registry import CHECKS, LOCAL_ONLY, Need, check_of, resolve
from scanium_e2e.cli import main


def collected() -> frozenset[str]:
    """Every test of the suite as JUnit names it, every option that adds tests given."""
    ids: frozenset[str] = collected_ids(
        "e2e/", "--scanium-mutations", "--scanium-alertmanager-config",
        "fixtures/alerts/alertmanager.yml",
    )  # fmt: skip
    return ids


def test_every_test_is_a_check_and_every_check_has_its_test() -> None:
    ids = collected()
    assert {test_id for test_id in ids if check_of(test_id) is None} == set()
    tested = {check_of(test_id) for test_id in ids}
    assert [check.name for check in CHECKS if check not in tested] == []


def test_names_and_tests_are_unique_and_references_resolve() -> None:
    assert len({c.name for c in CHECKS}) == len({c.test for c in CHECKS}) == len(CHECKS)
    assert resolve("series-labels[requests]") == (
        "e2e.test_labels::test_series_carry_exactly_the_contract_labels[requests]"
    )
    assert resolve("up-is-1") == "e2e.test_scrape_health::test_up_is_1_in_the_store"
    with pytest.raises(KeyError, match="no check is named 'up-is-one'"):
        resolve("up-is-one")


def test_what_a_deployment_cannot_give_decides_the_local_only_checks() -> None:
    logs = check_of("e2e/test_no_secrets.py::test_no_secret_in_logs[backend]")
    assert logs is not None and Need.LOCAL_STACK in logs.needs and logs.local_only
    counts = check_of("e2e.test_requests::test_request_counts_equal_the_ledger")
    assert counts is not None and not counts.local_only and counts.hop == 5
    assert {Need.LOCAL_STACK, Need.STUB_JOURNAL, Need.MUTATIONS} == set(LOCAL_ONLY)


def test_the_cli_lists_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checks", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["name"] for row in rows] == [check.name for check in CHECKS]
    assert main(["checks"]) == 0
    assert f"{len(CHECKS)} checks" in capsys.readouterr().out
