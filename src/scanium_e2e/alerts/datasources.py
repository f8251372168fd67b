"""Grafana data source provisioning: which data source a rule's `datasourceUid` names.

A Grafana-managed rule names its data sources by uid. The suite resolves each uid through
the provisioning in use (ours, fixtures/grafana/provisioning/datasources/, or the team's
with `--datasources PATH`): a Prometheus-type data source is queried against the stack's
store (whatever URL the provisioning gives it: the stack's store stands in for it); Loki,
Tempo and other types are not part of this stack; a uid the provisioning lacks is named.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from scanium_e2e.alerts.loading import RuleFileError, read_yaml
from scanium_e2e.dashboards.datasources import PROMETHEUS_TYPES
from scanium_e2e.settings import REPO_ROOT

OUR_DATASOURCES = REPO_ROOT / "fixtures" / "grafana" / "provisioning" / "datasources"


@dataclass(frozen=True)
class Datasource:
    """One provisioned data source."""

    uid: str
    name: str
    type: str
    source: str

    @property
    def is_prometheus(self) -> bool:
        """True for Prometheus-compatible data sources (Mimir, Cortex, Prometheus)."""
        return self.type in PROMETHEUS_TYPES


@dataclass(frozen=True)
class Datasources:
    """Data sources by uid, and the files they came from (for messages)."""

    by_uid: Mapping[str, Datasource]
    files: tuple[Path, ...]
    # How these files were chosen (`--datasources`, the rules' provisioning tree, ours).
    origin: str = ""

    def get(self, uid: str) -> Datasource | None:
        """The data source with this uid, or None."""
        return self.by_uid.get(uid)

    def describe(self) -> str:
        """`a.yaml (uids: x, y)` for messages about a uid that resolves to nothing."""
        uids = ", ".join(sorted(self.by_uid)) or "none"
        files = ", ".join(str(path) for path in self.files) or "no file"
        origin = f"; {self.origin}" if self.origin else ""
        return f"{files} (uids: {uids}{origin})"


# How far above a rule file its provisioning tree's `datasources/` folder may sit:
# provisioning/alerting/rules.yaml -> provisioning/datasources/.
_TREE_DEPTH = 3


def provisioning_tree(rule_paths: Iterable[str | Path]) -> list[Path]:
    """The `datasources/` folders of the Grafana provisioning trees the rule files sit in:
    for each, the nearest `datasources/` beside it or beside one of its parent folders."""
    found: list[Path] = []
    for raw in rule_paths:
        path = Path(raw).resolve()
        start = path if path.is_dir() else path.parent
        for folder in [start, *start.parents][:_TREE_DEPTH]:
            candidate = folder / "datasources"
            if candidate.is_dir():
                if candidate not in found:
                    found.append(candidate)
                break
    return found


def datasources_for(
    rule_paths: Iterable[str | Path], given: Iterable[str | Path] = ()
) -> Datasources:
    """The data sources rules resolve through: `given` (`--datasources`) wins; else the
    `datasources/` folder of the rules' provisioning tree; else ours. The choice is said in
    every message about a uid that resolves to nothing."""
    chosen = list(given)
    if chosen:
        return replace(load_datasources(chosen), origin="from --datasources")
    tree = provisioning_tree(rule_paths)
    if tree:
        return replace(
            load_datasources(tree), origin="the datasources/ folder of the rules' provisioning tree"
        )
    return replace(
        load_datasources(),
        origin="the suite's own, as no datasources/ folder sits beside the rules (give "
        "--datasources)",
    )


def load_datasources(paths: Iterable[str | Path] = (OUR_DATASOURCES,)) -> Datasources:
    """Every data source in the provisioning files `paths` names (folders: their YAML)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in (".yml", ".yaml")))
        elif path.is_file():
            files.append(path)
        else:
            raise RuleFileError(f"the data source provisioning path {path} does not exist.")
    found: dict[str, Datasource] = {}
    for file in files:
        data = read_yaml(file)
        entries = data.get("datasources") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise RuleFileError(
                f"{file} is not Grafana data source provisioning (`apiVersion:` and a "
                "`datasources:` list)."
            )
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict) or not entry.get("type"):
                raise RuleFileError(f"{file}: datasources[{index}] needs a `type`.")
            uid = str(entry.get("uid") or entry.get("name") or "")
            found[uid] = Datasource(uid, str(entry.get("name", uid)), str(entry["type"]), str(file))
    return Datasources(found, tuple(files))
