"""`scanium-e2e`: the command-line entry point.

Each subcommand lives in `scanium_e2e.cli.<name>` with `register(subparsers)` and
`run(args) -> int`. Errors the library raises on purpose (ScaniumE2EError) become one
paragraph on stderr and exit code 2; they never surface as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from scanium_e2e.errors import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_STACK_FAILED,
    EXIT_USAGE,
    ScaniumE2EError,
)

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_CHECK_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_STACK_FAILED",
    "EXIT_USAGE",
    "build_parser",
    "main",
]

COMMANDS = ("traffic", "dashboards", "selftest", "alerts")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="scanium-e2e",
        description="End-to-end verification of the Scanium observability pipeline.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        # Every listed command ships with the package: a missing module is a broken
        # install, and an ImportError says so instead of the command quietly vanishing.
        module = importlib.import_module(f"scanium_e2e.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except ScaniumE2EError as exc:
        print(f"scanium-e2e {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"scanium-e2e {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
