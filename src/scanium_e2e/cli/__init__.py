"""`scanium-e2e`: the command-line entry point.

Each subcommand lives in `scanium_e2e.cli.<name>` with `register(subparsers)` and
`run(args) -> int`. Errors the library raises on purpose (ScaniumE2EError) become one
paragraph on stderr and exit code 2; they never surface as a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from scanium_e2e.cli.run import run_suite
from scanium_e2e.errors import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_STACK_FAILED,
    EXIT_USAGE,
    ScaniumE2EError,
)
from scanium_e2e.secrets import mask_shapes
from scanium_e2e.settings import apply_provisioned_runtime

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

COMMANDS = ("run", "provision", "checks", "traffic", "dashboards", "selftest", "alerts")


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


class MaskedStream:
    """A text stream whose every write follows the masking policy (`mask_shapes`): what a
    command prints may quote a store's label values or a dashboard's variables, which can
    hold anything a client sent."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(mask_shapes(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code. Everything it prints is masked
    (`run` hands its arguments to pytest, whose output is the suite's, masked by it)."""
    given = list(sys.argv[1:] if argv is None else argv)
    # What provisioning recorded for Testcontainers, before a command imports it.
    apply_provisioned_runtime()
    if given[:1] == ["run"]:
        return run_suite(given[1:])
    parser = build_parser()
    args = parser.parse_args(given)
    with (
        contextlib.redirect_stdout(MaskedStream(sys.stdout)),
        contextlib.redirect_stderr(MaskedStream(sys.stderr)),
    ):
        try:
            return int(args.run(args))
        except ScaniumE2EError as exc:
            print(f"scanium-e2e {args.command}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            print(f"scanium-e2e {args.command}: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            # The reader went away (`| head`): nothing more to say, and no traceback.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_OK
