"""Your own pipeline, proved: an Alloy config written like a production one, run unchanged,
and a folder of production-style dashboards (fixtures/alloy/production-style.alloy,
fixtures/grafana/production/).

Two stacks start with the session's and are verified in the background while the
session's tests run (e2e/conftest.py): one runs the production-style config, one a copy
whose backend scrape job asks for a path the backend does not serve. The first must pass
every count check and every panel of every dashboard, with the components found in the
config itself; the second must fail naming its scrape component. A config Alloy rejects
ends `pytest e2e/` at once with exit 4 and Alloy's own error (a subprocess run: it starts
no stack, so it costs seconds).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import pytest

from scanium_e2e.dashboards import DATA, SKIPPED, dashboard_files
from scanium_e2e.errors import EXIT_BAD_INPUT
from scanium_e2e.session.own_pipeline import StackVerdict
from scanium_e2e.settings import REPO_ROOT
from scanium_e2e.suite_run import child_environment

# A proof of the suite on stacks of its own, like the mutation harness: with --scanium-mutations.
pytestmark = [pytest.mark.late, pytest.mark.mutation]

PRODUCTION_DASHBOARDS = REPO_ROOT / "fixtures" / "grafana" / "production"
# Read from the config by the suite, not told to it: these are what the fixture declares.
BACKEND_SCRAPE = "prometheus.scrape.scanium_api"
REMOTE_WRITE = "prometheus.remote_write.mimir_prod"
OTLP_RECEIVER = "otelcol.receiver.otlp.default"
ELSEWHERE = {
    "loki.write.grafana_loki",
    "otelcol.exporter.otlp.tempo",
    "prometheus.scrape.node_exporter",
}


def suite_with_config(tests: str, config: Path) -> tuple[int, str, float]:
    """`pytest <tests> --scanium-alloy-config <config>` in a subprocess: its exit code, its
    output and its seconds (a config refused at start-up starts no stack, so this takes seconds)."""
    began = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            tests,
            "-p",
            "no:cacheprovider",
            "--scanium-alloy-config",
            str(config),
        ],
        cwd=REPO_ROOT,
        env=child_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr, round(time.monotonic() - began, 1)


def verdict_of(verdicts: dict[str, Future[StackVerdict]], name: str) -> StackVerdict:
    """The background verification's verdict (it polls with its own deadlines)."""
    return verdicts[name].result()


def test_the_config_names_the_components_the_suite_verifies(
    own_pipeline_verdicts: dict[str, Future[StackVerdict]],
) -> None:
    found = verdict_of(own_pipeline_verdicts, "own-pipeline").components
    assert found is not None, "the stack started with the user's config found no components"
    assert (found.scrape, found.remote_write, found.job) == (
        BACKEND_SCRAPE,
        REMOTE_WRITE,
        "scanium-api",
    ), found.describe()
    assert found.target == "scanium-api.prod.svc.cluster.local:8080", found.describe()
    assert set(found.not_in_stack) >= ELSEWHERE, found.describe()
    # The OTLP road: the receiver the backend exports to, followed to the remote write.
    assert found.otlp is not None, found.describe()
    assert (found.otlp.receiver, found.otlp.port, found.otlp.remote_write) == (
        OTLP_RECEIVER,
        4318,
        REMOTE_WRITE,
    ), found.describe()
    assert found.otlp.span_remote_write == REMOTE_WRITE, found.describe()
    assert OTLP_RECEIVER not in found.not_in_stack, found.describe()


def test_the_production_style_config_counts_every_request(
    own_pipeline_verdicts: dict[str, Future[StackVerdict]],
) -> None:
    verdict = verdict_of(own_pipeline_verdicts, "own-pipeline")
    assert not verdict.traffic_failure, verdict.traffic_failure
    assert verdict.counts, "no count check ran"
    failed = {role: text for role, text in verdict.counts.items() if text}
    assert not failed, "\n".join(f"{role}: {text}" for role, text in failed.items())


@pytest.mark.parametrize("path", dashboard_files([PRODUCTION_DASHBOARDS]), ids=lambda p: p.stem)
def test_every_panel_of_the_production_dashboards_has_data(
    own_pipeline_verdicts: dict[str, Future[StackVerdict]], path: Path
) -> None:
    verdict = verdict_of(own_pipeline_verdicts, "own-pipeline")
    assert not verdict.traffic_failure, verdict.traffic_failure
    replay = verdict.dashboards[path]
    assert not replay.failure, replay.failure
    assert replay.result is not None
    panels = [panel for panel in replay.result.panels if panel.status != SKIPPED]
    assert len(panels) >= 4, f"{path.name}: only {len(panels)} panels replayed"
    assert all(panel.status == DATA for panel in panels), [
        (panel.title, panel.status) for panel in panels
    ]


def test_a_broken_backend_scrape_job_fails_naming_its_component(
    own_pipeline_verdicts: dict[str, Future[StackVerdict]],
) -> None:
    verdict = verdict_of(own_pipeline_verdicts, "own-pipeline-broken")
    first = verdict.traffic_failure.splitlines()[0] if verdict.traffic_failure else ""
    assert BACKEND_SCRAPE in first, verdict.traffic_failure or "the broken config passed"
    assert "/metricz" in first and "Broken hop" in verdict.traffic_failure, verdict.traffic_failure


def test_a_config_alloy_rejects_exits_4_at_once_with_alloys_error(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    config = tmp_path / "rejected.alloy"
    config.write_text(
        'prometheus.scrape "api" {\n'
        '  targets    = [{"__address__" = "api:8080"}]\n'
        "  forward_to = []\n"
        '  jobname    = "api"\n'
        "}\n",
        encoding="utf-8",
    )
    code, output, seconds = suite_with_config("e2e/test_scrape_health.py", config)
    record_property("rejected_config_exit_s", seconds)
    assert code == EXIT_BAD_INPUT, output[-3000:]
    assert f'{config}:4:3: unrecognized attribute name "jobname"' in output, output[-3000:]
    # Alloy's own excerpt of the line it names, and no stack was started for it.
    assert '4 |   jobname    = "api"' in output, output[-3000:]
    assert "did not become ready" not in output, output[-3000:]


def test_an_otlp_receiver_whose_metrics_go_nowhere_exits_4_naming_it_and_its_line(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """The production-style config with its receiver's `metrics` output removed: the
    contract says the backend pushes OTLP metrics, and nothing of the config would carry
    them to a store. Bad input, said before any stack starts."""
    text = (REPO_ROOT / "fixtures" / "alloy" / "production-style.alloy").read_text("utf-8")
    wired = "    metrics = [otelcol.processor.batch.default.input]\n    traces  ="
    assert text.count(wired) == 1, "the production-style receiver's output changed"
    config = tmp_path / "unwired.alloy"
    config.write_text(text.replace(wired, "    traces  ="), encoding="utf-8")
    line = 1 + text[: text.index('otelcol.receiver.otlp "default"')].count("\n")
    code, output, seconds = suite_with_config("e2e/test_otlp.py", config)
    record_property("unwired_otlp_exit_s", seconds)
    assert code == EXIT_BAD_INPUT, output[-3000:]
    assert (
        "the contract says the backend pushes OTLP metrics, but no OTLP receiver of the Alloy "
        f"config can carry them to a store: otelcol.receiver.otlp.default (line {line} of "
        f"{config}): its output wires traces but no `metrics`, so the backend's metrics go "
        "nowhere."
    ) in " ".join(output.split()), output[-3000:]
    assert "did not become ready" not in output, output[-3000:]
