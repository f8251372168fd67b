"""The mutation catalog (e2e/mutation_catalog.py) against what it names, without Docker:
every test id and panel it expects a variant to kill is one pytest collects from the suite,
every patch still applies to the fixture source, and shards and merges are exact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from suite_ids import collected_ids

from scanium_e2e.contract import FAILURE_CLASSES
from scanium_e2e.errors import ConfigurationError
from scanium_e2e.mutation import (
    KILLED,
    SURVIVED,
    Catalog,
    Patch,
    Variant,
    load_catalog,
    merge,
    parse_shard,
    prepared,
    shard,
    table,
)
from scanium_e2e.suite_run import SUITE_FILES

CATALOG = load_catalog()


def collected() -> frozenset[str]:
    """The suite's test ids as the harness's runs collect them (`SUITE_FILES`)."""
    ids: frozenset[str] = collected_ids(*SUITE_FILES)
    return ids


def test_every_expected_test_id_is_collected_from_the_suite() -> None:
    """A renamed test or a retitled panel fails here, in seconds, not as a survived variant
    of a slow --mutations run."""
    named = {
        test_id: variant.name
        for variant in (*CATALOG.harness, *CATALOG.deviations)
        for test_id in variant.kills
    }
    named.update(dict.fromkeys(CATALOG.unmutable, "UNMUTABLE"))
    unknown = {test_id: where for test_id, where in named.items() if test_id not in collected()}
    assert not unknown, f"catalog names tests pytest does not collect: {unknown}"


@pytest.mark.parametrize(
    "variant",
    [
        v
        for v in (*CATALOG.harness, *CATALOG.deviations)
        if v.backend_patches or v.dashboard_patch or v.alloy_patch
    ],
    ids=lambda variant: variant.name,
)
def test_every_patch_applies_to_the_fixture_source(variant: Variant) -> None:
    with prepared(variant) as (compose_files, dashboard):
        assert bool(compose_files) == bool(variant.backend_patches or variant.alloy_patch)
        if variant.dashboard_patch:
            assert variant.dashboard_patch.new in dashboard.read_text(encoding="utf-8")
        if variant.alloy_patch:
            # The override mounts the patched copy where Alloy reads its config.
            mounted = compose_files[0].read_text(encoding="utf-8")
            assert ":/etc/alloy/config.alloy:ro" in mounted


def test_a_patch_that_no_longer_applies_is_named() -> None:
    broken = Variant("gone", "b", backend_patches=(Patch("metrics.py", "no such text", "x"),))
    with (
        pytest.raises(ConfigurationError, match=r"metrics\.py no longer applies"),
        prepared(broken),
    ):
        pass


def test_names_are_unique_and_each_variant_expects_a_kill() -> None:
    names = [variant.name for variant in CATALOG.harness]
    assert len(set(names)) == len(names)
    assert all(variant.kills for variant in CATALOG.harness)
    assert all(reason for reason in CATALOG.unmutable.values())


def test_every_variant_names_its_failure_class() -> None:
    """Alert coverage is judged per failure class: a variant without one is judged nowhere."""
    for variant in (*CATALOG.harness, *CATALOG.deviations):
        assert variant.failure_class in FAILURE_CLASSES, variant.name


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7])
def test_shards_are_disjoint_and_cover_the_catalog(n: int) -> None:
    shares = [shard(CATALOG.harness, k, n) for k in range(1, n + 1)]
    names = [variant.name for share in shares for variant in share]
    assert sorted(names) == sorted(variant.name for variant in CATALOG.harness)
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


@pytest.mark.parametrize("text", ["0/2", "3/2", "2", "a/b", "1/0", ""])
def test_a_bad_shard_is_bad_input(text: str) -> None:
    with pytest.raises(ConfigurationError, match="is not K/N"):
        parse_shard(text)


def _shard_json(folder: Path, name: str, rows: list[dict[str, object]], ids: list[str]) -> Path:
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"variants": rows, "suite_ids": ids}), encoding="utf-8")
    return path


def _row(name: str, verdict: str, expected: list[str]) -> dict[str, object]:
    return {"variant": name, "verdict": verdict, "expected": expected, "failed": expected,
            "seconds": 1.0, "missed": {}, "collateral": {}}  # fmt: skip


SMALL = Catalog(
    harness=(Variant("a", "x", {"t1": (1, "k")}), Variant("b", "y", {"t2": (1, "k")})),
    deviations=(),
    unmutable={"t3": "cannot"},
)


def test_merged_shards_give_one_table_in_catalog_order(tmp_path: Path) -> None:
    second = _shard_json(tmp_path, "2", [_row("b", KILLED, ["t2"])], ["t1", "t2", "t3"])
    first = _shard_json(tmp_path, "1", [_row("a", KILLED, ["t1"])], ["t1", "t2", "t3"])
    merged = merge([second, first], SMALL)
    assert [row["variant"] for row in merged.rows] == ["a", "b"]
    assert merged.all_killed and not merged.missing
    text = table(merged.rows, merged.suite_ids, SMALL.unmutable)
    assert text.splitlines()[-1] == "killed 2/2 precisely"
    assert "    t3: cannot" in text


def test_a_merge_missing_a_shard_or_with_a_survivor_is_not_green(tmp_path: Path) -> None:
    only = _shard_json(tmp_path, "1", [_row("a", KILLED, ["t1"])], ["t1"])
    assert merge([only], SMALL).missing == ("b",)
    assert not merge([only], SMALL).all_killed
    survivor = _shard_json(tmp_path, "2", [_row("b", SURVIVED, ["t2"])], ["t2"])
    assert not merge([only, survivor], SMALL).all_killed


def test_a_shard_merged_twice_or_not_json_is_bad_input(tmp_path: Path) -> None:
    first = _shard_json(tmp_path, "1", [_row("a", KILLED, ["t1"])], ["t1"])
    with pytest.raises(ConfigurationError, match="also in another shard"):
        merge([first, first], SMALL)
    junk = tmp_path / "junk.json"
    junk.write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="is not the JSON"):
        merge([junk], SMALL)
