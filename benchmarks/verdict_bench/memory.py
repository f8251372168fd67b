"""Peak memory of a stack's containers, sampled in a thread (section 3)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any


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
