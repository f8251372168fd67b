"""Time-to-verdict benchmark of the e2e suite, beside the seed's manual procedure.

    python benchmarks/time_to_verdict.py [--flake-runs N] [--skip-flake] [--json out.json]

Sections (docs/performance.md holds the figures of a full run and how to read them):

1. time to verdict through the library, phase by phase (stack start, first green, traffic
   and its two waves, the five count checks), "cold" then "warm"; plus the wall time of
   `pytest e2e/` and `pytest tests/` in subprocesses;
2. time to diagnosis of the seed incident (a stack without /metrics in the exempt list);
3. peak memory of the stack's containers during a full run;
4. traffic generator throughput at 1, 10 and 100 clients, with exact accounting in Mimir;
5. flake check: the whole e2e suite N times in a row;
6. what the test stack's Alloy WAL truncation (every 1 s) saves: the same run, and the
   whole suite, with Alloy's default of 2h (as production), where Alloy v1.0 sends what
   it scraped only every 15 s.

The seed's procedure by hand (docs: openai-runtime-dashboard-fix.md) is traffic for about
60 s, then a 90 s wait: ~150 s to a verdict that checks presence, not exact counts.

Every stack runs under its own compose project (`scanium-e2e-bench*`), so the benchmark
never touches other stacks on the machine. Nothing here prints the run's API key: settings
are never printed, and text from a stack or a subprocess goes through a Masker.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import platform
import re
import secrets
import shutil
import stat
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT / "src") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "src"))

# Testcontainers reads these; the README asks for both on machines like this one.
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
os.environ.setdefault("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")

from scanium_e2e.checks import (  # noqa: E402
    COUNT_ROLES,
    TrafficRun,
    count_baselines,
    settle_counts,
    wait_for_planned,
    wait_for_up,
)
from scanium_e2e.contract import Contract, load_contract  # noqa: E402
from scanium_e2e.errors import CheckFailed, ScaniumE2EError  # noqa: E402
from scanium_e2e.pipeline import Pipeline  # noqa: E402
from scanium_e2e.secrets import Masker  # noqa: E402
from scanium_e2e.settings import Settings  # noqa: E402
from scanium_e2e.stack.compose import ComposeStack, variant_stack  # noqa: E402
from scanium_e2e.traffic import Ledger, TrafficPlan, send_traffic  # noqa: E402
from scanium_e2e.traffic_run import run_traffic, session_plan  # noqa: E402

PROJECT = "scanium-e2e-bench"
# The seed's manual procedure: ~60 s of traffic, then a 90 s wait.
SEED_MANUAL_S = 150.0
ROLES = COUNT_ROLES
# The backend's exempt list before the fix: /metrics missing (e2e/test_seed_incident.py).
INCIDENT = {"SCANIUM_E2E_BACKEND_EXEMPT_PATHS": "/health,/healthz,/readyz"}
# Section 6: Alloy's own WAL truncation period, as production runs it.
WAL_DEFAULT = {"SCANIUM_E2E_WAL_TRUNCATE_FREQUENCY": "2h"}
TAIL_LINES = 60
# The steps of run_traffic it times itself (TrafficRun.timings), in report order.
TRAFFIC_STEPS = ("wave1_send_s", "wave1_visible_s", "wave2_send_s")


# -- small helpers --------------------------------------------------------------------


def now_utc() -> str:
    """ISO time, seconds resolution, UTC."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def new_run_id(tag: str) -> str:
    """A fresh run id (own series in Mimir) for one measured run."""
    return f"run-bench-{tag}-{secrets.token_hex(3)}"


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile; nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def fmt_s(value: object) -> str:
    """`12.3 s`, or `-` for a missing figure."""
    if isinstance(value, int | float) and not math.isnan(float(value)):
        return f"{float(value):.1f} s"
    return "-"


_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|µs|us|ns|m|s)")
_GO_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "ns": 1e-9}


def go_duration_s(text: str) -> float:
    """Seconds of a Go duration string such as `15.001697083s` or `1m2.5s`."""
    return sum(float(n) * _GO_UNITS[unit] for n, unit in _GO_DURATION.findall(text))


def alloy_wal_replay_s(log: str) -> float | None:
    """How long Alloy's remote-write WAL watcher took to send its first samples.

    Alloy v1.0 logs `Done replaying WAL ... duration=...` when the watcher first reads a
    sample newer than its start: with nothing notifying it of writes, that waits for its
    15 s read timeout (or for a new WAL segment).
    """
    match = re.search(r'msg="Done replaying WAL".*?duration=(\S+)', log)
    return go_duration_s(match.group(1)) if match else None


def docker_text(*args: str) -> str:
    """The stripped stdout of a docker CLI call; empty when it fails (figures, not checks)."""
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=30, check=False
    ).stdout.strip()


def load_snapshot() -> dict[str, Any]:
    """What else runs on the machine right now: load average and foreign containers."""
    names = docker_text("ps", "--format", "{{.Names}}").split()
    foreign = [name for name in names if not name.startswith(PROJECT)]
    return {
        "at": now_utc(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "foreign_containers": len(foreign),
        "foreign_projects": sorted({name.rsplit("-", 2)[0] for name in foreign}),
    }


def git_revision() -> str:
    """The commit the suite runs at, `+dirty` when the work tree has changes.

    Others commit on this machine while a long benchmark runs: each pytest run records it.
    """

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return commit + ("+dirty" if dirty else "")


def say(text: str = "") -> None:
    """Progress on stdout, flushed (the full run goes to a log under nohup)."""
    print(text, flush=True)


# -- cold start: evict the images' files from the page cache ----------------------------


def image_layer_dirs(images: Sequence[str]) -> list[Path]:
    """overlay2 directories (lower and upper) of every layer of `images`."""
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{json .GraphDriver.Data}}", *images],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    dirs: list[Path] = []
    for line in result.stdout.splitlines():
        data = json.loads(line) if line.strip() else None
        if not isinstance(data, dict):
            continue
        for key in ("LowerDir", "UpperDir"):
            for part in str(data.get(key) or "").split(":"):
                if part and Path(part) not in dirs:
                    dirs.append(Path(part))
    return dirs


def resident_bytes(path: Path) -> int | None:
    """Bytes of `path` in the page cache (util-linux fincore), None when unknown."""
    if shutil.which("fincore") is None:
        return None
    result = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    text = result.stdout.strip()
    return int(text) if text.isdigit() else None


def evict_page_cache(images: Sequence[str]) -> dict[str, Any]:
    """`sync`, then posix_fadvise(DONTNEED) every file of the images' layers.

    /proc/sys/vm/drop_caches is not writable in this sandbox, and restarting dockerd would
    kill other people's stacks; this evicts exactly what a stack start reads (binaries,
    Python, libraries), except pages mapped by running processes (other stacks).
    """
    subprocess.run(["sync"], check=False, timeout=120)
    files = 0
    size = 0
    largest: tuple[int, Path] | None = None
    for folder in image_layer_dirs(images):
        for root, _dirs, names in os.walk(folder):
            for name in names:
                path = Path(root) / name
                try:
                    info = path.lstat()
                    if not stat.S_ISREG(info.st_mode):
                        continue
                    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
                except OSError:
                    continue
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)
                files += 1
                size += info.st_size
                if largest is None or info.st_size > largest[0]:
                    largest = (info.st_size, path)
    proof: dict[str, Any] = {}
    if largest is not None:
        proof = {
            "largest_file_bytes": largest[0],
            "largest_file_resident_after": resident_bytes(largest[1]),
        }
    return {"files": files, "bytes": size, **proof}


# -- memory sampling --------------------------------------------------------------------


class MemorySampler:
    """Samples the memory of a compose project's containers every `interval_s` in a thread.

    Memory is what `docker stats` shows: cgroup usage minus inactive file cache. It is read
    from the containers' cgroup files when this host has them (dockerd reads the same files;
    a sample then takes milliseconds), else from the Docker API's one-shot stats, which
    answer on dockerd's 1 s collection tick.
    """

    def __init__(self, project: str, interval_s: float = 0.5) -> None:
        import docker  # installed with testcontainers

        self._client = docker.from_env()
        self._project = project
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="memory-sampler", daemon=True)
        self.samples = 0
        self.errors = 0
        self.methods: set[str] = set()
        self.peak_total_bytes = 0
        self.peak_total_at_s = 0.0
        self.peak_by_service: dict[str, int] = {}
        # The kernel's high-water mark of each cgroup (page cache included), when known.
        self.high_water_by_service: dict[str, int] = {}
        self._started = 0.0

    @staticmethod
    def used_bytes(stats: Mapping[str, Any]) -> int:
        """`docker stats` MEM USAGE: usage minus inactive file pages (cgroup v1 and v2)."""
        memory = stats.get("memory_stats") or {}
        usage = int(memory.get("usage") or 0)
        detail = memory.get("stats") or {}
        inactive = int(detail.get("total_inactive_file", detail.get("inactive_file", 0)) or 0)
        return usage - inactive if inactive < usage else usage

    @staticmethod
    def _cgroup_read(container_id: str) -> tuple[int, int | None] | None:
        """(usage - inactive_file, high-water mark) from cgroup files, None if not found."""
        for folder, usage_file, peak_file, inactive_key in (
            (
                Path("/sys/fs/cgroup/memory/docker") / container_id,
                "memory.usage_in_bytes",
                "memory.max_usage_in_bytes",
                "total_inactive_file",
            ),
            (
                Path(f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope"),
                "memory.current",
                "memory.peak",
                "inactive_file",
            ),
            (
                Path("/sys/fs/cgroup/docker") / container_id,
                "memory.current",
                "memory.peak",
                "inactive_file",
            ),
        ):
            try:
                usage = int((folder / usage_file).read_text(encoding="ascii"))
                stat_text = (folder / "memory.stat").read_text(encoding="ascii")
            except (OSError, ValueError):
                continue
            inactive = 0
            for line in stat_text.splitlines():
                key, _, value = line.partition(" ")
                if key == inactive_key:
                    inactive = int(value)
            peak: int | None = None
            with contextlib.suppress(OSError, ValueError):
                peak = int((folder / peak_file).read_text(encoding="ascii"))
            return (usage - inactive if inactive < usage else usage), peak
        return None

    def _sample_once(self) -> None:
        containers = self._client.containers.list(
            filters={"label": f"com.docker.compose.project={self._project}"}
        )
        total = 0
        for container in containers:
            service = container.labels.get("com.docker.compose.service", container.name)
            from_cgroup = self._cgroup_read(container.id)
            if from_cgroup is not None:
                used, peak = from_cgroup
                self.methods.add("cgroup files")
                if peak is not None:
                    self.high_water_by_service[service] = max(
                        self.high_water_by_service.get(service, 0), peak
                    )
            else:
                try:
                    used = self.used_bytes(container.stats(stream=False, one_shot=True))
                except Exception:  # the container went away between list and stats
                    self.errors += 1
                    continue
                self.methods.add("docker API one-shot stats")
            total += used
            self.peak_by_service[service] = max(self.peak_by_service.get(service, 0), used)
        self.samples += 1
        if total > self.peak_total_bytes:
            self.peak_total_bytes = total
            self.peak_total_at_s = time.monotonic() - self._started

    def _loop(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                self._sample_once()
            except Exception:  # the engine was busy; the next sample will do
                self.errors += 1
            self._stop.wait(max(0.0, self._interval_s - (time.monotonic() - began)))

    def __enter__(self) -> MemorySampler:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self._client.close()

    def report(self) -> dict[str, Any]:
        """Peaks in MiB, and how many samples they come from."""
        mib = 1024 * 1024
        return {
            "interval_s": self._interval_s,
            "samples": self.samples,
            "sample_errors": self.errors,
            "method": ", ".join(sorted(self.methods)) or "none",
            "peak_total_mib": round(self.peak_total_bytes / mib, 1),
            "peak_total_at_s": round(self.peak_total_at_s, 1),
            "peak_by_service_mib": {
                name: round(value / mib, 1) for name, value in sorted(self.peak_by_service.items())
            },
            "kernel_high_water_by_service_mib": {
                name: round(value / mib, 1)
                for name, value in sorted(self.high_water_by_service.items())
            },
        }


# -- section 1: time to verdict through the library ---------------------------------------


@dataclasses.dataclass
class Bench:
    """What every section shares."""

    settings: Settings
    contract: Contract
    masker: Masker

    def variant(self, suffix: str, tag: str) -> Settings:
        """Settings of one measured stack: own project and run id."""
        return dataclasses.replace(
            self.settings, project_name=f"{PROJECT}-{suffix}", run_id=new_run_id(tag)
        )


def verdict_run(
    bench: Bench,
    label: str,
    *,
    suffix: str,
    overrides: Mapping[str, str] | None = None,
    sample_memory: bool = False,
) -> dict[str, Any]:
    """One full run, phase by phase: start -> up == 1 -> traffic -> five exact counts."""
    settings = bench.variant(suffix, label)
    result: dict[str, Any] = {"label": label, "project": settings.project_name}
    result["load_before"] = load_snapshot()
    stack = ComposeStack(settings, masker=bench.masker, overrides=overrides)
    sampler = MemorySampler(settings.project_name) if sample_memory else None
    pipeline: Pipeline | None = None
    began = time.monotonic()
    with sampler or contextlib.nullcontext():
        try:
            stack.start()
            ready_at = time.monotonic()
            t = stack.timings
            result["start"] = {
                "cleanup_s": t.get("cleanup"),
                "compose_up_s": t["up"] - t["cleanup"],
                "readiness_s": t["start_to_ready"] - t["up"],
                "ready_by_service_s": {
                    key.split(":", 1)[1]: round(value, 2)
                    for key, value in t.items()
                    if key.startswith("ready:")
                },
                "start_to_ready_s": t["start_to_ready"],
                "wall_s": ready_at - began,
            }
            pipeline = Pipeline.connect(settings, bench.contract, stack, bench.masker)
            up = wait_for_up(pipeline)
            green_at = time.monotonic()
            result["first_green"] = {"s": green_at - ready_at, "polls": up.attempts}
            run = run_traffic(pipeline, session_plan(settings))
            traffic_at = time.monotonic()
            # run_traffic times its own steps (TrafficRun.timings).
            steps = {key: run.timings.get(key, math.nan) for key in TRAFFIC_STEPS}
            result["traffic"] = {
                "s": traffic_at - green_at,
                **steps,
                "requests": len(run.ledger.entries),
                "surprises": len(run.ledger.surprises),
            }
            for value in run.ledger.planted():
                bench.masker.add(value)
            # As the e2e suite does: every count check polls at once, then each verdict.
            check_times = settle_counts(pipeline, run, ROLES)
            for role in ROLES:
                wait_for_planned(pipeline, run, role)
            verdict_at = time.monotonic()
            result["checks"] = {"s": verdict_at - traffic_at, "by_role_s": check_times}
            result["total_s"] = verdict_at - began
            result["alloy_wal_replay_s"] = alloy_wal_replay_s(stack.logs("alloy"))
            result["ok"] = True
        except (ScaniumE2EError, AssertionError) as exc:
            result["ok"] = False
            result["error"] = bench.masker.mask(str(exc))[:3000]
        finally:
            if pipeline is not None:
                pipeline.close()
            stopping = time.monotonic()
            stack.stop()
            result["teardown_s"] = time.monotonic() - stopping
    if sampler is not None:
        result["memory"] = sampler.report()
    return result


def describe_verdict(run: Mapping[str, Any]) -> str:
    """One line per run for progress output."""
    if not run.get("ok"):
        return f"  {run['label']}: FAILED: {str(run.get('error', ''))[:300]}"
    return (
        f"  {run['label']}: start {fmt_s(run['start']['start_to_ready_s'])}, first green "
        f"{fmt_s(run['first_green']['s'])}, traffic {fmt_s(run['traffic']['s'])}, checks "
        f"{fmt_s(run['checks']['s'])}, total {fmt_s(run['total_s'])} "
        f"(Alloy WAL replay {fmt_s(run.get('alloy_wal_replay_s'))})"
    )


# -- pytest in a subprocess ---------------------------------------------------------------


def run_pytest(
    args: Sequence[str],
    *,
    project: str | None,
    timeout_s: float,
    junit: Path | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """`python -m pytest <args>` from the repo root; wall time, exit code, summary line."""
    env = {**os.environ, **(extra_env or {})}
    artifacts = Path(tempfile.mkdtemp(prefix="scanium-e2e-bench-artifacts-"))
    if project:
        # Own compose project (variant stacks derive theirs from it): never another's.
        env["SCANIUM_E2E_PROJECT"] = project
    env["SCANIUM_E2E_ARTIFACTS_DIR"] = str(artifacts)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    command = [sys.executable, "-m", "pytest", *args]
    revision = git_revision()
    if junit is not None:
        command.append(f"--junitxml={junit}")
    started = time.monotonic()
    try:
        done = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        code: int | None = done.returncode
        output = done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        code = None
        raw = exc.stdout or ""
        output = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
        output += f"\n(timed out after {timeout_s:g}s)"
    wall = time.monotonic() - started
    # The suite masks its own secrets; mask key shapes again before anything is kept.
    output = Masker().mask(output)
    lines = output.rstrip().splitlines()
    summary = next(
        (
            line.strip("= ").strip()
            for line in reversed(lines)
            if re.search(r"\b(passed|failed|error|errors|skipped|no tests ran)\b", line)
        ),
        "",
    )
    result: dict[str, Any] = {
        "command": " ".join(["python", "-m", "pytest", *args]),
        "git": revision,
        "wall_s": wall,
        "exit_code": code,
        "passed": code == 0,
        "summary": summary,
    }
    if code != 0:
        result["tail"] = "\n".join(lines[-TAIL_LINES:])
        result["artifacts_dir"] = str(artifacts)
    else:
        shutil.rmtree(artifacts, ignore_errors=True)
    return result


def slowest_tests(junit: Path, count: int = 6) -> list[dict[str, Any]]:
    """The slowest test cases of a JUnit report (setup, call and teardown included)."""
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):
        return []
    cases = sorted(
        (
            (float(case.get("time") or 0.0), f"{case.get('classname', '')}::{case.get('name', '')}")
            for case in root.iter("testcase")
        ),
        reverse=True,
    )
    return [{"test": name, "s": seconds} for seconds, name in cases[:count]]


# -- section 2: time to diagnosis --------------------------------------------------------


def diagnosis_run(bench: Bench, index: int) -> dict[str, Any]:
    """Ready -> the CheckFailed of wait_for_up on the incident stack (must name HTTP 403)."""
    settings = dataclasses.replace(
        bench.settings, project_name=PROJECT, run_id=new_run_id(f"incident{index}")
    )
    result: dict[str, Any] = {"run": index, "load_before": load_snapshot()}
    began = time.monotonic()
    try:
        # Project `scanium-e2e-bench-incident`: variant_stack appends the name.
        with variant_stack(settings, "incident", INCIDENT, bench.masker) as stack:
            result["start_to_ready_s"] = time.monotonic() - began
            pipeline = Pipeline.connect(stack.settings, bench.contract, stack, bench.masker)
            started = time.monotonic()
            try:
                wait_for_up(pipeline)
            except CheckFailed as exc:
                message = bench.masker.mask(str(exc))
                result["diagnosis_s"] = time.monotonic() - started
                result["names_http_403"] = "HTTP 403" in message
                result["ended_by_hard_error"] = "not reached within" not in message
                result["headline"] = message.splitlines()[0][:400]
            else:
                result["diagnosis_s"] = math.nan
                result["names_http_403"] = False
                result["headline"] = "wait_for_up passed on the incident stack (unexpected)"
            finally:
                pipeline.close()
    except ScaniumE2EError as exc:
        result["error"] = bench.masker.mask(str(exc))[:2000]
    return result


# -- section 4: throughput ---------------------------------------------------------------


def throughput_runs(
    bench: Bench, concurrencies: Sequence[int], successes: int
) -> list[dict[str, Any]]:
    """Send `successes` plain successes at each concurrency to one stack; Mimir must match."""
    settings = bench.variant("throughput", "throughput")
    stack = ComposeStack(settings, masker=bench.masker)
    results: list[dict[str, Any]] = []
    pipeline: Pipeline | None = None
    try:
        stack.start()
        pipeline = Pipeline.connect(settings, bench.contract, stack, bench.masker)
        wait_for_up(pipeline)
        for concurrency in concurrencies:
            row: dict[str, Any] = {"clients": concurrency, "load_before": load_snapshot()}
            baseline = count_baselines(pipeline)
            plan = TrafficPlan(
                api_key=settings.api_key,
                bearer_token=settings.bearer_token,
                run_id=settings.run_id,
                provider=settings.provider,
                successes=successes,
                provider_errors=0,
                validation_errors=0,
                unauthorized=0,
                unknown_route=0,
                canaries=False,
                concurrency=concurrency,
            )
            ledger: Ledger = send_traffic(stack.endpoints.backend_url, plan)
            latencies = [entry.latency_ms for entry in ledger.entries]
            row.update(
                {
                    "requests": len(ledger.entries),
                    "duration_s": ledger.duration_s,
                    "req_per_s": len(ledger.entries) / ledger.duration_s
                    if ledger.duration_s
                    else math.nan,
                    "p50_ms": percentile(latencies, 50),
                    "p95_ms": percentile(latencies, 95),
                    "max_ms": max(latencies, default=math.nan),
                    "surprises": len(ledger.surprises),
                    "retries": ledger.retries,
                }
            )
            started = time.monotonic()
            try:
                counts = wait_for_planned(pipeline, TrafficRun(ledger, baseline), "requests")
                row["mimir_exact"] = True
                row["mimir_counts"] = {"/".join(key): value for key, value in counts.items()}
            except CheckFailed as exc:
                row["mimir_exact"] = False
                row["error"] = bench.masker.mask(str(exc))[:2000]
            row["mimir_wait_s"] = time.monotonic() - started
            results.append(row)
            say(
                f"  {concurrency:>3} clients: {row['req_per_s']:.0f} req/s, p50 "
                f"{row['p50_ms']:.0f} ms, p95 {row['p95_ms']:.0f} ms, Mimir exact: "
                f"{row['mimir_exact']} (after {row['mimir_wait_s']:.1f} s)"
            )
    except ScaniumE2EError as exc:
        results.append({"error": bench.masker.mask(str(exc))[:2000]})
    finally:
        if pipeline is not None:
            pipeline.close()
        stack.stop()
    return results


# -- section 6: WAL truncation ---------------------------------------------------------


def wal_knob_present() -> bool:
    """Whether the test stack's Alloy config reads its WAL truncation period from the env.

    Alloy v1.0's remote_write never notifies its WAL watcher of new writes (fixed later,
    grafana/alloy#721), so the watcher reads the WAL only on its 15 s read timeout or
    when a new segment appears. A truncation starts a new segment: truncating every
    second (the test stack's setting) makes samples leave within about a second.
    """
    config = (REPO_ROOT / "fixtures" / "alloy" / "config.alloy").read_text(encoding="utf-8")
    return "SCANIUM_WAL_TRUNCATE_FREQUENCY" in config


# -- the report --------------------------------------------------------------------------


def table(rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned text table with a rule under the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def verdict_table(runs: Sequence[Mapping[str, Any]]) -> str:
    """Phases (rows) by run (columns)."""

    def cell(run: Mapping[str, Any], *path: str) -> str:
        value: Any = run
        for key in path:
            if not isinstance(value, Mapping) or key not in value:
                return "-"
            value = value[key]
        return fmt_s(value)

    header = ["phase (library, not timed asserts)", *(str(run["label"]) for run in runs)]
    rows = [header]
    spec: list[tuple[str, tuple[str, ...]]] = [
        ("stack start: compose up -> all ready", ("start", "start_to_ready_s")),
        ("  leftovers removed", ("start", "cleanup_s")),
        ("  docker compose up", ("start", "compose_up_s")),
        ("  readiness probes", ("start", "readiness_s")),
        ("first green: ready -> up == 1 in Mimir", ("first_green", "s")),
        ("  (Alloy: first WAL read, from its start)", ("alloy_wal_replay_s",)),
        ("traffic: run_traffic", ("traffic", "s")),
        ("  wave 1 sent", ("traffic", "wave1_send_s")),
        ("  wave 1 visible in Mimir", ("traffic", "wave1_visible_s")),
        ("  wave 2 sent", ("traffic", "wave2_send_s")),
        ("all count checks green", ("checks", "s")),
        *((f"  {role}", ("checks", "by_role_s", role)) for role in ROLES),
        ("TOTAL: compose up -> verdict", ("total_s",)),
        ("(teardown, not in total)", ("teardown_s",)),
    ]
    for name, path in spec:
        rows.append([name, *(cell(run, *path) if run.get("ok") else "FAILED" for run in runs)])
    return table(rows)


def render(report: Mapping[str, Any]) -> str:
    """The human-readable summary of every section that ran."""
    out: list[str] = [
        "",
        "=" * 78,
        f"scanium-e2e time to verdict, {report['machine']['date']} on "
        f"{report['machine']['cpus']} CPUs ({report['machine']['platform']})",
        f"seed manual procedure: ~60 s traffic + 90 s wait = ~{SEED_MANUAL_S:.0f} s to a "
        "verdict (presence only)",
        "=" * 78,
    ]
    verdicts = report.get("verdict", {}).get("runs", [])
    if verdicts:
        out += ["", "1. time to verdict (one stack, suite traffic, exact counts)", ""]
        out.append(verdict_table(verdicts))
        out.append("   cold = " + report["verdict"]["cold_definition"])
    extra = report.get("verdict", {}).get("pytest", {})
    if extra:
        out.append("")
        rows = [["command", "wall", "result", "git", "vs seed by hand"]]
        for item in extra.values():
            ratio = SEED_MANUAL_S / item["wall_s"] if item["wall_s"] else math.nan
            rows.append(
                [
                    item["command"],
                    fmt_s(item["wall_s"]),
                    item["summary"][:60],
                    str(item.get("git", "-")),
                    f"{ratio:.1f}x",
                ]
            )
        ok = [run for run in verdicts if run.get("ok")]
        for run in ok:
            rows.append(
                [
                    f"library run '{run['label']}' (compose up -> verdict)",
                    fmt_s(run["total_s"]),
                    "exact counts",
                    "",
                    f"{SEED_MANUAL_S / run['total_s']:.1f}x",
                ]
            )
        out.append(table(rows))
        slow = extra.get("e2e", {}).get("slowest_tests", [])
        if slow:
            out.append("   slowest e2e tests (JUnit time, fixtures included):")
            out += [f"     {fmt_s(case['s']):>8}  {case['test']}" for case in slow]
    diagnosis = report.get("diagnosis")
    if diagnosis:
        out += ["", "2. time to diagnosis of the seed incident (ready -> CheckFailed)", ""]
        rows = [["run", "stack start", "diagnosis", "names HTTP 403", "hard error"]]
        for run in diagnosis["runs"]:
            rows.append(
                [
                    str(run["run"]),
                    fmt_s(run.get("start_to_ready_s")),
                    fmt_s(run.get("diagnosis_s")),
                    str(run.get("names_http_403", "-")),
                    str(run.get("ended_by_hard_error", "-")),
                ]
            )
        out.append(table(rows))
        out.append(
            f"   min {fmt_s(diagnosis.get('min_s'))}, median {fmt_s(diagnosis.get('median_s'))}"
            f" (seed: found by hand after the dashboard stayed empty)"
        )
    memory = report.get("memory")
    if memory:
        out += ["", f"3. peak memory of the stack ({memory['source']})", ""]
        high = memory.get("kernel_high_water_by_service_mib", {})
        rows = [["service", "peak MiB (docker stats)", "cgroup high-water MiB (incl. cache)"]]
        rows += [
            [name, f"{mib:.1f}", f"{high[name]:.1f}" if name in high else "-"]
            for name, mib in memory["peak_by_service_mib"].items()
        ]
        rows.append(["TOTAL (peak of the sum)", f"{memory['peak_total_mib']:.1f}", ""])
        out.append(table(rows))
        out.append(
            f"   {memory['samples']} samples every {memory['interval_s']} s from "
            f"{memory['method']}; the sum peaked {memory['peak_total_at_s']} s after compose up"
        )
    throughput = report.get("throughput")
    if throughput:
        out += ["", "4. traffic generator throughput (reference backend, plain successes)", ""]
        rows = [["clients", "requests", "req/s", "p50", "p95", "Mimir exact", "Mimir wait"]]
        for row in throughput["runs"]:
            if "clients" not in row:
                rows.append(["error", str(row.get("error", ""))[:60], "", "", "", "", ""])
                continue
            rows.append(
                [
                    str(row["clients"]),
                    str(row["requests"]),
                    f"{row['req_per_s']:.0f}",
                    f"{row['p50_ms']:.0f} ms",
                    f"{row['p95_ms']:.0f} ms",
                    "yes" if row.get("mimir_exact") else "NO",
                    fmt_s(row.get("mimir_wait_s")),
                ]
            )
        out.append(table(rows))
    flake = report.get("flake")
    if flake:
        out += [
            "",
            f"5. flake check: {flake['command']} x{flake['runs']} "
            f"(section took {fmt_s(flake['section_s'])})",
            "",
        ]
        rows = [["run", "result", "wall", "git", "summary"]]
        for i, run in enumerate(flake["results"], start=1):
            rows.append(
                [
                    str(i),
                    "pass" if run["passed"] else "FAIL",
                    fmt_s(run["wall_s"]),
                    str(run.get("git", "-")),
                    run["summary"],
                ]
            )
        out.append(table(rows))
        walls = [run["wall_s"] for run in flake["results"]]
        out.append(
            f"   {flake['passes']}/{flake['runs']} passed; wall min {fmt_s(min(walls))}, "
            f"median {fmt_s(statistics.median(walls))}, max {fmt_s(max(walls))}"
        )
    wal = report.get("wal_truncation")
    if wal:
        out += ["", "6. Alloy WAL truncation: test stack (1 s) vs Alloy's default (2h)", ""]
        baseline = [run for run in verdicts if run.get("ok") and run["label"].startswith("warm")]
        out.append(verdict_table([*baseline[:1], wal["run"]]))
        suite = wal.get("pytest_e2e")
        if suite:
            out.append(
                f"   {suite['command']} with 2h: {fmt_s(suite['wall_s'])}, {suite['summary']}"
            )
    out += ["", f"sections took {fmt_s(report.get('elapsed_s'))} in all", ""]
    return "\n".join(out)


# -- main --------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """Where the figures come from."""
    docker_version = docker_text("version", "--format", "{{.Server.Version}}")
    mem_kib = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return {
        "date": now_utc(),
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "docker": docker_version,
        "git": git_revision(),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time-to-verdict benchmark of the scanium-e2e suite (docs/performance.md)."
    )
    parser.add_argument("--flake-runs", type=int, default=10, help="e2e suite runs (default 10)")
    parser.add_argument("--skip-flake", action="store_true", help="skip the flake check")
    parser.add_argument(
        "--skip-wal", action="store_true", help="skip the Alloy WAL truncation comparison"
    )
    parser.add_argument("--diagnosis-runs", type=int, default=3, help="incident stacks (3)")
    parser.add_argument(
        "--throughput-requests", type=int, default=200, help="successes per client count (200)"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the raw numbers here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    settings = Settings.from_env(overrides={"project_name": PROJECT})
    bench = Bench(settings, load_contract(settings.contract_file), Masker(settings.secrets()))
    report: dict[str, Any] = {"machine": machine(), "load_start": load_snapshot()}

    def save() -> None:
        report["elapsed_s"] = time.monotonic() - started
        if args.json is not None:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            text = bench.masker.mask(json.dumps(report, indent=2, default=str))
            args.json.write_text(text + "\n", encoding="utf-8")

    images = [
        settings.store_image,
        settings.images.alloy,
        settings.images.backend,
        settings.images.stub_llm,
    ]
    say(f"1. time to verdict (projects {PROJECT}-cold/-warm)")
    sharing = subprocess.run(
        ["docker", "ps", "-q", *(f"--filter=ancestor={image}" for image in images)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    ).stdout.split()
    eviction = evict_page_cache(images)
    cold_definition = (
        "first stack start of this process right after `sync` + posix_fadvise(DONTNEED) on "
        f"every file of the 4 images' overlay2 layers ({eviction['files']} files, "
        f"{eviction['bytes'] / 1e6:.0f} MB; {len(sharing)} running containers of other "
        "projects used these images and keep their mapped pages). drop_caches is not "
        "writable here; the VM's disk may still be cached by its host."
    )
    runs = [verdict_run(bench, "cold", suffix="cold")]
    runs[0]["eviction"] = eviction
    say(describe_verdict(runs[0]))
    for name in ("warm-1", "warm-2"):
        runs.append(verdict_run(bench, name, suffix="warm"))
        say(describe_verdict(runs[-1]))
    report["verdict"] = {"cold_definition": cold_definition, "runs": runs}
    save()

    say("3. peak memory (a full warm run with the sampler on)")
    sampled = verdict_run(bench, "warm-sampled", suffix="memory", sample_memory=True)
    say(describe_verdict(sampled))
    report["verdict"]["runs"].append(sampled)
    if "memory" in sampled:
        report["memory"] = {
            **sampled["memory"],
            "source": "usage - inactive file, as docker stats, run 'warm-sampled'",
        }
    save()

    if not args.skip_wal and wal_knob_present():
        say("6. Alloy WAL truncation at Alloy's default (2h), as production")
        wal_run = verdict_run(bench, "wal-2h", suffix="wal2h", overrides=WAL_DEFAULT)
        say(describe_verdict(wal_run))
        # The whole suite too: compose reads the variable from the environment as well, so
        # every stack of the session gets it.
        suite = run_pytest(
            ["e2e/", "-q", "-p", "no:cacheprovider"],
            project=f"{PROJECT}-wal2h-pytest",
            timeout_s=1800,
            extra_env=WAL_DEFAULT,
        )
        say(f"  pytest e2e/ with 2h: {fmt_s(suite['wall_s'])} {suite['summary']}")
        report["wal_truncation"] = {"override": WAL_DEFAULT, "run": wal_run, "pytest_e2e": suite}
        save()

    say(f"2. time to diagnosis x{args.diagnosis_runs} (project {PROJECT}-incident)")
    diagnosis_results = []
    for index in range(1, args.diagnosis_runs + 1):
        diagnosis_results.append(diagnosis_run(bench, index))
        last = diagnosis_results[-1]
        say(
            f"  run {index}: {fmt_s(last.get('diagnosis_s'))} "
            f"(HTTP 403 named: {last.get('names_http_403')}) {last.get('error', '')[:200]}"
        )
    times = [
        run["diagnosis_s"]
        for run in diagnosis_results
        if isinstance(run.get("diagnosis_s"), float) and not math.isnan(run["diagnosis_s"])
    ]
    report["diagnosis"] = {
        "runs": diagnosis_results,
        "min_s": min(times) if times else None,
        "median_s": statistics.median(times) if times else None,
    }
    save()

    say(f"4. throughput (project {PROJECT}-throughput)")
    report["throughput"] = {
        "plan": f"{args.throughput_requests} successes, nothing else, canaries off",
        "runs": throughput_runs(bench, (1, 10, 100), args.throughput_requests),
    }
    save()

    say("1b. pytest wall times (subprocesses)")
    pytest_results: dict[str, Any] = {}
    pytest_results["unit"] = run_pytest(
        ["tests/", "-q", "-p", "no:cacheprovider"], project=None, timeout_s=900
    )
    say(f"  tests/: {fmt_s(pytest_results['unit']['wall_s'])} {pytest_results['unit']['summary']}")
    with tempfile.TemporaryDirectory(prefix="scanium-e2e-bench-junit-") as workdir:
        junit = Path(workdir) / "junit.xml"
        e2e = run_pytest(
            ["e2e/", "-q", "-p", "no:cacheprovider"],
            project=f"{PROJECT}-pytest",
            timeout_s=1800,
            junit=junit,
        )
        e2e["slowest_tests"] = slowest_tests(junit)
    pytest_results["e2e"] = e2e
    say(f"  e2e/: {fmt_s(e2e['wall_s'])} {e2e['summary']}")
    report["verdict"]["pytest"] = pytest_results
    save()

    if not args.skip_flake and args.flake_runs > 0:
        say(f"5. flake check x{args.flake_runs} (project {PROJECT}-flake)")
        flake_started = time.monotonic()
        flake_args = ["e2e/", "-q", "-p", "no:cacheprovider"]
        results: list[dict[str, Any]] = []
        for index in range(1, args.flake_runs + 1):
            load = load_snapshot()
            result = run_pytest(flake_args, project=f"{PROJECT}-flake", timeout_s=1800)
            result["load_before"] = load
            results.append(result)
            say(
                f"  run {index}: {'pass' if result['passed'] else 'FAIL'} "
                f"{fmt_s(result['wall_s'])} {result['summary']}"
            )
            report["flake"] = {
                "command": "python -m pytest " + " ".join(flake_args),
                "runs": len(results),
                "passes": sum(1 for run in results if run["passed"]),
                "failures": sum(1 for run in results if not run["passed"]),
                "section_s": time.monotonic() - flake_started,
                "results": results,
            }
            save()

    report["load_end"] = load_snapshot()
    save()
    say(bench.masker.mask(render(report)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
