"""The metrics store of a started stack: Grafana Mimir, or Cortex where no registry is.

Both take Prometheus remote write on `/api/v1/push` and answer the Prometheus API under
`/prometheus`, so the suite has one query client. What differs is the image, the config
file (Cortex refuses Mimir's YAML) and the name every message and artifact must use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scanium_e2e.resources import ROOT

FIXTURES = ROOT / "fixtures"


@dataclass(frozen=True)
class StoreKind:
    """One kind of store the stack can run."""

    name: str  # the setting's value: "mimir" or "cortex"
    product: str  # what messages call it
    default_image: str
    config_file: Path
    # Said after the product and version where the store stands in for Mimir.
    note: str = ""

    def title(self, image: str) -> str:
        """`Grafana Mimir 2.12.0`, `Cortex v1.21.1 (Mimir-compatible)`: what actually ran."""
        last = image.rpartition("/")[2]
        tag = last.rpartition(":")[2] if ":" in last else ""
        title = f"{self.product} {tag}" if tag else self.product
        return f"{title} ({self.note})" if self.note else title


STORES = {
    "mimir": StoreKind(
        name="mimir",
        product="Grafana Mimir",
        # The official image: Scanium's production store, pulled where a registry is.
        default_image="grafana/mimir:2.12.0",
        config_file=FIXTURES / "mimir" / "mimir.yaml",
    ),
    "cortex": StoreKind(
        name="cortex",
        product="Cortex",
        # Built from the Go module proxy by scripts/provision.sh (no registry needed).
        default_image="scanium-e2e/cortex:v1.21.1",
        config_file=FIXTURES / "cortex" / "cortex.yaml",
        note="Mimir-compatible",
    ),
}
