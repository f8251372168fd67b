"""Rules under a Grafana provisioning tree resolve their data sources from its
`datasources/` sibling without a flag; `--datasources` still wins; a uid that resolves to
nothing is named with where the suite looked."""

from __future__ import annotations

from pathlib import Path

from scanium_e2e.alerts.datasources import datasources_for, provisioning_tree
from scanium_e2e.alerts.scenarios import load_inputs
from scanium_e2e.settings import REPO_ROOT

GRAFANA_RULES = REPO_ROOT / "fixtures" / "alerts" / "rules" / "scanium-grafana.yaml"
MIMIR = """apiVersion: 1
datasources:
  - name: Mimir
    uid: {uid}
    type: prometheus
    url: http://mimir:9009/prometheus
"""


def tree(root: Path, uid: str) -> Path:
    """monitoring/grafana/provisioning/{alerting/rules.yaml, datasources/mimir.yaml}."""
    provisioning = root / "monitoring" / "grafana" / "provisioning"
    (provisioning / "alerting").mkdir(parents=True)
    (provisioning / "datasources").mkdir()
    rules = provisioning / "alerting" / "rules.yaml"
    rules.write_text(GRAFANA_RULES.read_text(encoding="utf-8"), encoding="utf-8")
    (provisioning / "datasources" / "mimir.yaml").write_text(MIMIR.format(uid=uid), "utf-8")
    return rules


def test_the_rules_tree_gives_the_data_sources(tmp_path: Path) -> None:
    rules = tree(tmp_path, "scanium-mimir")
    assert provisioning_tree([rules]) == [rules.parent.parent / "datasources"]
    inputs = load_inputs([rules])
    source = inputs.datasources.get("scanium-mimir")
    assert source is not None and source.source.endswith("provisioning/datasources/mimir.yaml")
    assert "provisioning tree" in inputs.datasources.origin


def test_datasources_given_win_and_every_choice_is_said(tmp_path: Path) -> None:
    rules = tree(tmp_path, "other-uid")
    ours = REPO_ROOT / "fixtures" / "grafana" / "provisioning" / "datasources"
    given = datasources_for([rules], [ours])
    assert given.get("scanium-mimir") is not None and given.origin == "from --datasources"
    from_tree = datasources_for([rules])
    assert from_tree.get("scanium-mimir") is None
    assert "(uids: other-uid; the datasources/ folder of the rules' provisioning tree)" in (
        from_tree.describe()
    )
    lone = tmp_path / "lone.yaml"
    lone.write_text(GRAFANA_RULES.read_text(encoding="utf-8"), encoding="utf-8")
    assert "no datasources/ folder sits beside the rules" in datasources_for([lone]).describe()
