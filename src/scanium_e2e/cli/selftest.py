"""`scanium-e2e selftest`: run the mutation harness and print its coverage table; a shard
of it (`--shard K/N`), or the table of several shards' results (`--merge JSON...`)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from scanium_e2e.errors import ConfigurationError
from scanium_e2e.mutation import (
    CATALOG_FILE,
    Catalog,
    Coverage,
    VariantResult,
    load_catalog,
    merge,
    parse_shard,
    run_variants,
    shard,
)
from scanium_e2e.secrets import Masker
from scanium_e2e.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `selftest` subcommand."""
    parser = subparsers.add_parser(
        "selftest",
        help="run the suite against deliberately broken stacks (mutation harness)",
        description="Each variant breaks one thing; the real suite runs against it "
        "(`pytest e2e/ --scanium-stack=attach`) and must fail exactly the variant's expected "
        "tests, each with its expected hop and kind. Exit 0 only when every variant is killed "
        "precisely. The variants are those of e2e/mutation_catalog.py.",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this variant (repeatable; names: e2e/mutation_catalog.py)",
    )
    parser.add_argument("--workers", type=int, default=3, help="variants run at once")
    parser.add_argument(
        "--shard",
        default=None,
        metavar="K/N",
        help="run only the K-th of N deterministic shares of the variants (a CI matrix "
        "spreads the harness over N runners; merge their --json with --merge)",
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        default=None,
        metavar="JSON",
        help="run nothing: print the coverage table of shards' --json results; exit 0 only "
        "when they cover every variant and each was killed precisely",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the table as JSON")
    parser.add_argument(
        "--catalog", type=Path, default=CATALOG_FILE, help="the mutation catalog to run"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the chosen variants (or merge shards) and print the coverage table."""
    catalog = load_catalog(args.catalog)
    if args.merge:
        return _merge(args.merge, catalog)
    names = {variant.name for variant in catalog.harness}
    unknown = sorted(set(args.only) - names)
    if unknown:
        raise ConfigurationError(
            f"unknown variant {unknown[0]!r}; choose from {', '.join(sorted(names))}."
        )
    k, n = parse_shard(args.shard) if args.shard else (1, 1)
    chosen = [v for v in shard(catalog.harness, k, n) if not args.only or v.name in args.only]
    settings = Settings.from_env()
    masker = Masker(settings.secrets())

    def progress(result: VariantResult) -> None:
        print(
            f"selftest: {result.variant.name}: {result.verdict} ({result.seconds:.1f}s)",
            file=sys.stderr,
            flush=True,
        )

    if n > 1:
        print(
            f"selftest: shard {k}/{n}: {len(chosen)} of {len(catalog.harness)} variants",
            file=sys.stderr,
            flush=True,
        )
    with tempfile.TemporaryDirectory(prefix="scanium-selftest-") as root:
        results = run_variants(
            settings, chosen, masker, Path(root), workers=args.workers, progress=progress
        )
    coverage = Coverage.of(results)
    print(masker.mask(coverage.table(catalog.unmutable)))
    if args.json:
        data = coverage.as_json(catalog.unmutable, f"{k}/{n}")
        args.json.write_text(masker.mask(json.dumps(data, indent=2)) + "\n", encoding="utf-8")
    return 0 if coverage.all_killed else 1


def _merge(paths: list[Path], catalog: Catalog) -> int:
    """The coverage table of the shards' results; the variants no shard ran are named."""
    merged = merge(paths, catalog)
    print(merged.table(catalog.unmutable))
    if merged.missing:
        print(
            f"not run by any shard: {', '.join(merged.missing)} "
            f"({len(merged.missing)} of {len(catalog.harness)} variants)"
        )
    return 0 if merged.all_killed else 1
