"""What the checker reads from a Grafana dashboard JSON model, as plain frozen data.

Only the fields that decide what a panel queries are kept; the layout (gridPos, field
config, thresholds) is not. Datasource references stay raw (None, a name string, or a
`{type, uid}` object) because what they mean depends on the template variables.
"""

from __future__ import annotations

from dataclasses import dataclass

DatasourceRef = str | dict[str, str] | None


@dataclass(frozen=True)
class Target:
    """One query of a panel (`targets[]`)."""

    ref_id: str
    expr: str
    hidden: bool
    datasource: DatasourceRef
    min_step: str
    instant: bool
    path: str


@dataclass(frozen=True)
class Panel:
    """A query panel, flattened out of its row (collapsed rows included)."""

    id: int | None
    title: str
    type: str
    row: str
    datasource: DatasourceRef
    targets: tuple[Target, ...]
    repeat: str
    row_repeat: str
    min_interval: str
    max_data_points: int | None
    library_panel: str
    path: str

    @property
    def key(self) -> str:
        """`#7 Request Rate`: how messages name the panel."""
        return f"#{self.id} {self.title}" if self.id is not None else self.title


@dataclass(frozen=True)
class Option:
    """One option of a template variable, as saved in the JSON."""

    text: str
    value: str


@dataclass(frozen=True)
class Variable:
    """A template variable (`templating.list[]`)."""

    name: str
    type: str
    query: str
    datasource: DatasourceRef
    regex: str
    multi: bool
    include_all: bool
    all_value: str | None
    current: tuple[str, ...]
    options: tuple[Option, ...]
    refresh: int
    sort: int
    auto: bool
    auto_count: int
    auto_min: str
    path: str


@dataclass(frozen=True)
class DashboardInput:
    """An `__inputs` entry of an exported dashboard (`${DS_MIMIR}` and constants)."""

    name: str
    type: str
    plugin_id: str
    value: str


@dataclass(frozen=True)
class Dashboard:
    """A dashboard: its panels (flattened), variables and exported inputs."""

    title: str
    uid: str
    source: str
    panels: tuple[Panel, ...]
    variables: tuple[Variable, ...]
    inputs: tuple[DashboardInput, ...] = ()

    def variable(self, name: str) -> Variable | None:
        """The template variable called `name`, if any."""
        return next((v for v in self.variables if v.name == name), None)

    def panel(self, key: str | int) -> Panel | None:
        """The first panel whose id or title is `key`."""
        return next((p for p in self.panels if str(p.id) == str(key) or p.title == key), None)
