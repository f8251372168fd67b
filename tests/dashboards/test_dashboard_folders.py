"""Dashboard folders (`--dashboards PATH...`): which files, and the production-style
fixture folder's shape (rows, collapsed rows, chained variables, an environment filter)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scanium_e2e.dashboards import DashboardFormatError, dashboard_files, load_dashboards
from scanium_e2e.settings import REPO_ROOT

PRODUCTION = REPO_ROOT / "fixtures" / "grafana" / "production"
BACKEND_METRICS = REPO_ROOT / "fixtures" / "backend" / "scanium_backend" / "metrics.py"


def test_a_folder_stands_for_its_json_files_and_a_file_named_twice_counts_once(
    tmp_path: Path,
) -> None:
    (tmp_path / "b.json").write_text("{}")
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("")
    files = dashboard_files([tmp_path, tmp_path / "a.json"])
    assert [file.name for file in files] == ["a.json", "b.json"]


def test_an_empty_folder_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(DashboardFormatError, match=str(tmp_path)):
        dashboard_files([tmp_path])


def test_the_production_folder_has_three_dashboards_with_collapsed_rows() -> None:
    dashboards = load_dashboards([PRODUCTION])
    assert len(dashboards) >= 3
    nested = [panel for d in dashboards for panel in d.panels if panel.row]
    # Panels inside a collapsed row (nested in its `panels`) are loaded like the others.
    assert {"Latency percentiles", "Average tokens per call", "Resident memory"} <= {
        panel.title for panel in nested
    }


def test_the_production_dashboards_chain_variables_and_filter_on_environment() -> None:
    for dashboard in load_dashboards([PRODUCTION]):
        queries = {v.name: v.query for v in dashboard.variables}
        assert 'deployment_environment=~"(dev|stage|prod)"' in queries["env"], dashboard.title
        assert "$env" in queries["job"], dashboard.title


def test_the_production_dashboards_query_only_metrics_the_reference_backend_exposes() -> None:
    exposed = set(re.findall(r'"(scanium_[a-z_]+)"', BACKEND_METRICS.read_text()))
    exposed |= {f"{name}_{suffix}" for name in exposed for suffix in ("bucket", "sum", "count")}
    exposed |= {"up", "scanium_process_resident_memory_bytes"}
    for dashboard in load_dashboards([PRODUCTION]):
        for panel in dashboard.panels:
            for target in panel.targets:
                for name in re.findall(r"\b(scanium_[a-z_]+|up)\{", target.expr):
                    assert name in exposed, f"{dashboard.title} / {panel.title}: {name}"
