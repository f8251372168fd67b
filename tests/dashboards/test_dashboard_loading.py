"""Loading dashboards: rows, collapsed rows, exports, library panels, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dashboard_fixtures import JSON_DIR

from scanium_e2e.dashboards import DashboardFormatError, load_dashboard, load_dashboards
from scanium_e2e.dashboards.loading import locate, parse_dashboard
from scanium_e2e.errors import ConfigurationError


def test_rows_and_collapsed_rows_are_flattened() -> None:
    dashboard = load_dashboard(JSON_DIR / "kitchen_sink.json")
    assert [(p.id, p.row) for p in dashboard.panels] == [
        (1, "Open row"),
        (2, "Open row"),
        (3, "Open row"),
        (4, "Open row"),
        (5, "Collapsed row"),
        (6, "Collapsed row"),
        (7, "Collapsed row"),
        (8, "Collapsed row"),
    ]
    assert dashboard.panel(5) is not None and dashboard.panel(5).path == "panels[5].panels[0]"  # type: ignore[union-attr]


def test_targets_keep_hidden_flag_and_datasource() -> None:
    dashboard = load_dashboard(JSON_DIR / "kitchen_sink.json")
    requests = dashboard.panel("Requests")
    assert requests is not None
    assert [(t.ref_id, t.hidden) for t in requests.targets] == [("A", False), ("B", True)]
    mixed = dashboard.panel(2)
    assert mixed is not None and mixed.targets[1].datasource == {"type": "loki", "uid": "logs"}


def test_library_panels_resolved_from_elements_or_marked() -> None:
    dashboard = load_dashboard(JSON_DIR / "kitchen_sink.json")
    resolved, unresolved = dashboard.panel(7), dashboard.panel(6)
    assert resolved is not None and resolved.title == "Library tokens"
    assert resolved.targets[0].expr.startswith("sum(rate(scanium_assistant_tokens_used_sum")
    assert unresolved is not None and unresolved.library_panel == "Somewhere else (uid lib-missing)"


def test_exported_inputs() -> None:
    dashboard = load_dashboard(JSON_DIR / "exported.json")
    assert [(i.name, i.type, i.plugin_id) for i in dashboard.inputs][:2] == [
        ("DS_MIMIR", "datasource", "prometheus"),
        ("DS_LOGS", "datasource", "loki"),
    ]


def test_legacy_rows_layout() -> None:
    dashboard = load_dashboard(JSON_DIR / "legacy_rows.json")
    (panel,) = dashboard.panels
    assert panel.row == "Requests" and panel.path == "rows[0].panels[0]"


def test_api_wrapped_dashboard(tmp_path: Path) -> None:
    path = tmp_path / "api.json"
    path.write_text(json.dumps({"meta": {}, "dashboard": {"title": "T", "panels": []}}))
    assert load_dashboard(path).title == "T"


def test_directory_loads_every_json(tmp_path: Path) -> None:
    assert [d.uid for d in load_dashboards([JSON_DIR])][:2] == ["exported", "kitchen-sink"]
    with pytest.raises(DashboardFormatError, match="holds no"):
        load_dashboards([tmp_path])


def test_missing_file() -> None:
    with pytest.raises(ConfigurationError, match=r"the dashboard file nope\.json does not exist"):
        load_dashboard("nope.json")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.json").write_text("  \n")
    with pytest.raises(DashboardFormatError, match="is empty"):
        load_dashboard(tmp_path / "e.json")


def test_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "title": "x",\n  "panels": [\n    {"id": 1,}\n  ]\n}\n')
    with pytest.raises(DashboardFormatError) as caught:
        load_dashboard(path)
    message = str(caught.value)
    assert message.startswith(f"{path}, line 4, column 14: not valid JSON")
    assert "\n" not in message


def test_structural_error_names_the_json_path_and_position(tmp_path: Path) -> None:
    path = tmp_path / "shape.json"
    panels = [{"id": i, "type": "stat", "targets": []} for i in range(3)]
    panels.append({"id": 3, "type": "stat", "targets": {"refId": "A", "expr": "up"}})
    path.write_text(json.dumps({"title": "x", "panels": panels}, indent=2))
    with pytest.raises(DashboardFormatError) as caught:
        load_dashboard(path)
    message = str(caught.value)
    assert "`panels[3].targets` must be a list, found an object." in message
    line, column = locate(path.read_text(), ["panels", 3, "targets"]) or (0, 0)
    assert message.startswith(f"{path}, line {line}, column {column}:") and line > 1


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ([], "`(top level)` must be an object"),
        ({"panels": {}}, "`panels` must be a list"),
        ({"panels": [{"type": "row", "panels": "x"}]}, "`panels[0].panels` must be a list"),
        (
            {"panels": [{"targets": [{"expr": ["up"]}]}]},
            "`panels[0].targets[0].expr` must be a string",
        ),
        ({"panels": [{"datasource": 3}]}, "`panels[0].datasource` must be a name"),
        ({"templating": {"list": [{"type": "query"}]}}, "`templating.list[0].name` is missing"),
        ({"templating": {"list": {}}}, "`templating.list` must be a list"),
    ],
)
def test_structural_errors(data: object, where: str) -> None:
    with pytest.raises(DashboardFormatError, match="^d.json: " + __import__("re").escape(where)):
        parse_dashboard(data, source="d.json")


def test_locate_nested_paths() -> None:
    text = '{"a": [1, {"b": "x", "c": [true, {"d": null}]}]}'
    assert locate(text, ["a", 1, "c", 1, "d"]) == (1, text.index("null") + 1)
    assert locate(text, ["a", 5]) is None
    assert locate(text, ["zz"]) is None
