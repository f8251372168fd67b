"""An existing deployment the suite attaches to (pre-deploy verification)."""

from __future__ import annotations

from pathlib import Path

from scanium_e2e.settings import Settings
from scanium_e2e.stack import StackEndpoints


class ExternalStack:
    """Nothing to start or stop; logs are not ours to read."""

    started_here = False

    def __init__(self, settings: Settings) -> None:
        external = settings.external
        self.endpoints = StackEndpoints(
            backend_url=external.backend_url,
            alloy_url=external.alloy_url,
            mimir_url=external.mimir_url,
        )

    def logs(self, service: str, *, masked: bool = True) -> str:
        """External services' logs are not reachable from here."""
        return ""

    def save_logs(self, folder: Path) -> list[Path]:
        """Nothing to save."""
        return []

    def stop(self) -> None:
        """Nothing to stop."""
