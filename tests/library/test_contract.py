"""The contract file: the default parses; unknown fields are named."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from scanium_e2e.contract import load_contract, parse_contract
from scanium_e2e.errors import ConfigurationError
from scanium_e2e.settings import REPO_ROOT

DEFAULT = REPO_ROOT / "fixtures" / "contract.json"


def default_data() -> dict[str, Any]:
    return dict(json.loads(DEFAULT.read_text()))


def test_default_contract_matches_the_scanium_contract() -> None:
    contract = load_contract(DEFAULT)
    assert contract.requests.name == "scanium_assistant_requests_total"
    assert contract.requests.labels == ("provider", "status", "cache_hit")
    assert contract.latency.buckets == (50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)
    assert contract.tokens.buckets == (50, 100, 250, 500, 1000, 2000, 4000)
    assert contract.token_types == ("input", "output", "total")
    assert contract.scrape.job == "scanium-backend"
    assert contract.budget_for("scanium_http_requests_total") == 100
    assert contract.budget_for("anything_else") == contract.series_budget_default


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (("metrics", "tokens", "lables"), "unknown field `metrics.tokens.lables`"),
        (("scrape", "jobb"), "unknown field `scrape.jobb`"),
        (("extra",), "unknown field `extra`"),
    ],
)
def test_unknown_field_is_named(path: tuple[str, ...], message: str) -> None:
    data = copy.deepcopy(default_data())
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = ["x"]
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        parse_contract(data, source="my.json")


def test_missing_metric_and_bad_type() -> None:
    data = default_data()
    del data["metrics"]["errors"]
    with pytest.raises(ConfigurationError, match=r"`metrics\.errors` is missing"):
        parse_contract(data)
    data = default_data()
    data["metrics"]["requests"]["type"] = "countr"
    with pytest.raises(ConfigurationError, match="type` is 'countr'"):
        parse_contract(data)


def test_malformed_json_names_line(tmp_path: Path) -> None:
    bad = tmp_path / "c.json"
    bad.write_text('{"metrics": {,}}')
    with pytest.raises(ConfigurationError, match=r"c.json is not valid JSON: .* line 1"):
        load_contract(bad)


def test_failure_accounting_is_parsed_strictly() -> None:
    import json

    import pytest as _pytest

    from scanium_e2e.contract import parse_contract
    from scanium_e2e.errors import ConfigurationError
    from scanium_e2e.settings import REPO_ROOT

    base = json.loads((REPO_ROOT / "fixtures" / "contract.json").read_text())
    assert parse_contract(base).failures.recorded_as == "error"
    base["failures"] = {"recorded_as": "success", "error_counter": False}
    parsed = parse_contract(base)
    assert (parsed.failures.recorded_as, parsed.errors_recorded) == ("success", False)
    base["failures"] = {"recorded_as": "fallback"}
    with _pytest.raises(ConfigurationError, match=r"failures\.recorded_as"):
        parse_contract(base)
    base["failures"] = {"counted": "error"}
    with _pytest.raises(ConfigurationError, match=r"failures\.counted"):
        parse_contract(base)
    del base["failures"]
    base["errors_recorded"] = False
    assert parse_contract(base).failures.error_counter is False
    base["failures"] = {}
    with _pytest.raises(ConfigurationError, match="not both"):
        parse_contract(base)
