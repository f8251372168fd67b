"""Failure artifacts: what a person needs to see after a red run, secrets masked."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from scanium_e2e.pipeline import Pipeline
from scanium_e2e.verdict.diagnose import component_json, diagnose


def write_artifacts(pipeline: Pipeline) -> Path:
    """Write logs, Alloy's component JSON, the last queries, a /metrics snapshot and a
    diagnosis into `<artifacts_dir>/<run_id>/`; returns the folder."""
    mask = pipeline.masker.mask
    folder = pipeline.settings.artifacts_dir / pipeline.settings.run_id
    folder.mkdir(parents=True, exist_ok=True)
    if pipeline.stack.started_here:
        pipeline.stack.save_logs(folder / "logs")
    (folder / "alloy-component.json").write_text(mask(component_json(pipeline)), "utf-8")
    queries = [
        {"kind": record.kind, "query": record.query, "result": record.result}
        for record in pipeline.store.history
    ]
    (folder / "queries.json").write_text(mask(json.dumps(queries, indent=2)), "utf-8")
    try:
        response = pipeline.backend_metrics()
        snapshot = f"# HTTP {response.status_code}\n{response.text}"
    except httpx.HTTPError as exc:
        snapshot = f"# GET /metrics failed: {exc}"
    (folder / "backend-metrics.txt").write_text(mask(snapshot), "utf-8")
    (folder / "diagnosis.txt").write_text(mask(diagnose(pipeline).render()) + "\n", "utf-8")
    return folder
