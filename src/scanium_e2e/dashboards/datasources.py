"""What kind of data source a panel or target reference points at.

A reference can be null (the default data source), a name string, a `{type, uid}` object,
a `${DS}` template or datasource variable, an exported `${DS_X}` input, or one of Grafana's
special sources (`-- Mixed --`, `-- Grafana --`, `-- Dashboard --`, expressions). Only
Prometheus-type queries are replayed; everything else is reported as skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from scanium_e2e.dashboards.interpolation import VariableValue, references
from scanium_e2e.dashboards.model import Dashboard, DatasourceRef

PROMETHEUS_TYPES = frozenset(
    {"prometheus", "grafana-amazonprometheus-datasource", "grafana-azureprometheus-datasource"}
)
MIXED = "mixed"
UNKNOWN = "unknown"
_SPECIAL = {
    "-- mixed --": MIXED,
    "-- grafana --": "grafana",
    "grafana": "grafana",
    "-- dashboard --": "dashboard",
    "__expr__": "expression",
    "-- expression --": "expression",
}


@dataclass(frozen=True)
class DatasourceKind:
    """A resolved data source: its plugin type (or mixed/grafana/unknown) and a name."""

    type: str
    name: str

    @property
    def is_prometheus(self) -> bool:
        """True for Prometheus-compatible data sources (their queries are PromQL)."""
        return self.type in PROMETHEUS_TYPES


def resolve_datasource(
    ref: DatasourceRef,
    dashboard: Dashboard,
    variables: Mapping[str, VariableValue],
    known: Mapping[str, str] | None = None,
) -> DatasourceKind:
    """The kind of data source `ref` names.

    `known` maps data source names or uids to plugin types (e.g. from provisioning); a
    name the checker cannot type is UNKNOWN, and the caller decides (a target with an
    `expr` is most likely PromQL).
    """
    if ref is None or ref == "" or ref == "default":
        return DatasourceKind("prometheus", "default data source")
    if isinstance(ref, dict):
        uid, type_ = ref.get("uid", ""), ref.get("type", "")
        special = _SPECIAL.get(uid.lower()) or _SPECIAL.get(type_.lower())
        if special:
            return DatasourceKind(special, uid or type_)
        if type_ and type_ != "datasource" and not type_.startswith("$"):
            return DatasourceKind(type_, uid or type_)
        return _by_name(uid, dashboard, variables, known)
    return _by_name(ref, dashboard, variables, known)


def _by_name(
    name: str,
    dashboard: Dashboard,
    variables: Mapping[str, VariableValue],
    known: Mapping[str, str] | None,
) -> DatasourceKind:
    special = _SPECIAL.get(name.lower())
    if special:
        return DatasourceKind(special, name)
    referenced = references(name)
    if referenced:
        variable_name = referenced[0]
        for item in dashboard.inputs:
            if item.name == variable_name and item.type == "datasource":
                return DatasourceKind(item.plugin_id or UNKNOWN, f"${{{variable_name}}}")
        value = variables.get(variable_name)
        if value is not None and value.datasource_type:
            return DatasourceKind(value.datasource_type, f"${{{variable_name}}}")
        return DatasourceKind(UNKNOWN, name)
    if known and name in known:
        return DatasourceKind(known[name], name)
    return DatasourceKind(UNKNOWN, name)
