"""`scanium-e2e checks`: every check of the suite, with the hop it judges and what it
needs (checks/registry.py); `--format json` for machines. Exit 0."""

from __future__ import annotations

import argparse
import json

from scanium_e2e.checks.registry import CHECKS
from scanium_e2e.errors import EXIT_OK


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `checks` subcommand."""
    parser = subparsers.add_parser(
        "checks", help="list the suite's checks with their hop and needs", description=__doc__
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the registry."""
    if args.format == "json":
        rows = [
            {
                "name": check.name,
                "hop": check.hop,
                "road": check.road or "scrape",
                "needs": sorted(check.needs),
                "local_only": check.local_only,
                "test": check.test,
                "summary": check.summary,
            }
            for check in CHECKS
        ]
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    header = ("check", "hop", "needs", "asserts")
    rows_text = [
        (check.name, check.hop_text, ", ".join(sorted(check.needs)) or "-", check.summary)
        for check in CHECKS
    ]
    widths = [max(len(row[i]) for row in (header, *rows_text)) for i in range(3)]
    for row in (header, *rows_text):
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
            + "  "
            + row[3]
        )
    print(f"{len(CHECKS)} checks, {sum(c.local_only for c in CHECKS)} of them need a local stack")
    return EXIT_OK
