"""Failure artifacts: what a person needs to see after a red run, secrets masked."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from scanium_e2e.dashboards import DashboardResult, dashboard_record
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.verdict.diagnose import component_json, diagnose


def artifacts_folder(pipeline: Pipeline) -> Path:
    """`<artifacts_dir>/<run_id>/`, created."""
    folder = pipeline.settings.artifacts_dir / pipeline.settings.run_id
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_dashboard_artifact(pipeline: Pipeline, result: DashboardResult) -> Path:
    """Write `dashboard-<uid>.json` (every panel's verdict, its queries in full) into the
    artifacts folder; returns the file."""
    name = result.dashboard.uid or result.dashboard.title or "untitled"
    path = artifacts_folder(pipeline) / f"dashboard-{name}.json"
    text = json.dumps(dashboard_record(result), indent=2)
    path.write_text(pipeline.masker.mask(text), "utf-8")
    return path


def write_artifacts(pipeline: Pipeline) -> Path:
    """Write logs, Alloy's component JSON, the last queries, a /metrics snapshot and a
    diagnosis into `<artifacts_dir>/<run_id>/`; returns the folder.

    The slow parts (every service's log through compose, the backend's /metrics, the
    diagnosis) are read at once: a red run's teardown costs the slowest, not their sum.
    """
    mask = pipeline.masker.mask
    folder = artifacts_folder(pipeline)
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="artifacts") as pool:
        logs = (
            pool.submit(pipeline.stack.save_logs, folder / "logs")
            if pipeline.stack.started_here
            else None
        )
        snapshot = pool.submit(_metrics_snapshot, pipeline)
        diagnosis = pool.submit(lambda: diagnose(pipeline).render())
        (folder / "alloy-component.json").write_text(mask(component_json(pipeline)), "utf-8")
        queries = [
            {"kind": record.kind, "query": record.query, "result": record.result}
            for record in pipeline.store.history
        ]
        (folder / "queries.json").write_text(mask(json.dumps(queries, indent=2)), "utf-8")
        (folder / "backend-metrics.txt").write_text(mask(snapshot.result()), "utf-8")
        (folder / "diagnosis.txt").write_text(mask(diagnosis.result()) + "\n", "utf-8")
        if logs is not None:
            logs.result()
    return folder


def _metrics_snapshot(pipeline: Pipeline) -> str:
    """The backend's /metrics as the artifacts keep it (its status line first): the reading
    the diagnosis beside it judges (read once, or taken in the last scrape intervals)."""
    reading = pipeline.recent_backend_metrics()
    response = reading.response
    if response is None:
        return f"# GET /metrics failed: {reading.error}"
    return f"# HTTP {response.status_code}\n{response.text}"
