"""How long the pre-flight read of a user's Alloy config takes (stack/alloy_preflight.py).

    python benchmarks/alloy_preflight.py [--runs 5]

Runs the Alloy image on each config, as `pytest e2e/ --alloy-config` does before the stack
starts, and prints min / median / max seconds until the components are read (or, for the
rejected config, until Alloy's error is in hand).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from scanium_e2e.errors import ConfigurationError
from scanium_e2e.settings import Settings
from scanium_e2e.stack.alloy_preflight import read_components

ROOT = Path(__file__).resolve().parents[1]
REJECTED = 'prometheus.scrape "x" {\n  targets = []\n  forward_to = []\n  jobname = "x"\n}\n'


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    image = Settings.from_env().images.alloy
    with tempfile.TemporaryDirectory() as folder:
        rejected = Path(folder) / "rejected.alloy"
        rejected.write_text(REJECTED, encoding="utf-8")
        configs = {
            "fixtures/alloy/config.alloy": ROOT / "fixtures/alloy/config.alloy",
            "fixtures/alloy/production-style.alloy": ROOT / "fixtures/alloy/production-style.alloy",
            "a config Alloy rejects": rejected,
        }
        print(f"Alloy image {image}, {args.runs} runs each")
        for name, path in configs.items():
            seconds = []
            for _ in range(args.runs):
                began = time.monotonic()
                try:
                    found = f"{len(read_components(image, path))} components"
                except ConfigurationError:
                    found = "rejected (exit 4)"
                seconds.append(time.monotonic() - began)
            print(
                f"{name}: {found}; min {min(seconds):.2f} s, median "
                f"{statistics.median(seconds):.2f} s, max {max(seconds):.2f} s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
