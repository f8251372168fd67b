"""`scanium-e2e run [pytest arguments]`: the suite, from any directory.

Runs `python -m pytest` on the suite the package carries (the checkout's e2e/, or the copy
an installed wheel holds), with the given pytest arguments: the suite's own options are
`--scanium-…` (`scanium-e2e run --scanium-alloy-config deploy/alloy.alloy`), relative paths
are the caller's, and the artifacts land in the caller's directory. A team's repository
needs no copy of ours. `scanium-e2e run --help` prints pytest's help, the suite's options
among it. The exit code is pytest's.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence

from scanium_e2e.resources import ROOT, SUITE_DIR

HELP = "run the suite (pytest) against a stack of its own or a deployment"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `run` subcommand (its arguments are pytest's: `main` hands them over)."""
    parser = subparsers.add_parser("run", help=HELP, description=__doc__, add_help=False)
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER)
    parser.set_defaults(run=lambda args: run_suite(args.pytest_args))


def command(pytest_args: Sequence[str]) -> list[str]:
    """`python -m pytest <suite> --rootdir <its root> …`: test ids, JUnit class names and
    the harness's expectations read as in the checkout (`e2e.test_x::…`); no pytest cache
    is written beside an installed suite."""
    return [
        sys.executable,
        "-m",
        "pytest",
        str(SUITE_DIR),
        f"--rootdir={ROOT}",
        "-p",
        "no:cacheprovider",
        "-o",
        "junit_family=xunit1",
        *pytest_args,
    ]


def run_suite(pytest_args: Sequence[str]) -> int:
    """Run the suite; pytest's exit code."""
    return subprocess.call(command(pytest_args))
