"""`scanium-e2e selftest`: run the mutation harness and print its coverage table."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from scanium_e2e.errors import ConfigurationError
from scanium_e2e.secrets import Masker
from scanium_e2e.selftest import HARNESS, KILLED, VariantResult, run_variants, table, unkilled
from scanium_e2e.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `selftest` subcommand."""
    parser = subparsers.add_parser(
        "selftest",
        help="run the suite against deliberately broken stacks (mutation harness)",
        description="Each variant breaks one thing; the real suite runs against it "
        "(`pytest e2e/ --stack=attach`) and must fail exactly the variant's expected tests, "
        "each with its expected hop and kind. Exit 0 only when every variant is killed "
        "precisely.",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this variant (repeatable); names: "
        + ", ".join(variant.name for variant in HARNESS),
    )
    parser.add_argument("--workers", type=int, default=3, help="variants run at once")
    parser.add_argument("--json", type=Path, default=None, help="also write the table as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the chosen variants and print the coverage table."""
    names = {variant.name for variant in HARNESS}
    unknown = sorted(set(args.only) - names)
    if unknown:
        raise ConfigurationError(
            f"unknown variant {unknown[0]!r}; choose from {', '.join(sorted(names))}."
        )
    settings = Settings.from_env()
    masker = Masker(settings.secrets())
    chosen = [v for v in HARNESS if not args.only or v.name in args.only]

    def progress(result: VariantResult) -> None:
        print(
            f"selftest: {result.variant.name}: {result.verdict} ({result.seconds:.1f}s)",
            file=sys.stderr,
            flush=True,
        )

    with tempfile.TemporaryDirectory(prefix="scanium-selftest-") as root:
        results = run_variants(
            settings, chosen, masker, Path(root), workers=args.workers, progress=progress
        )
    ids = sorted({test_id for result in results for test_id in result.outcome.ids})
    print(masker.mask(table(results, ids)))
    if args.json:
        data = {
            "variants": [result.as_dict() for result in results],
            "unkilled": unkilled(chosen, ids),
        }
        args.json.write_text(masker.mask(json.dumps(data, indent=2)) + "\n", encoding="utf-8")
    return 0 if all(result.verdict == KILLED for result in results) else 1
