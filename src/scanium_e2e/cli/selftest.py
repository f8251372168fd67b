"""`scanium-e2e selftest`: run the mutation harness and print `killed N/M`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scanium_e2e.contract import load_contract
from scanium_e2e.errors import ConfigurationError
from scanium_e2e.secrets import Masker
from scanium_e2e.selftest import VARIANTS, report, run_variant
from scanium_e2e.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `selftest` subcommand."""
    parser = subparsers.add_parser(
        "selftest",
        help="run the suite against deliberately broken stacks (mutation harness)",
        description="Each variant breaks one hop; the suite must fail a check with the "
        "variant's diagnosis. Exit 0 only when every variant is killed.",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this variant (repeatable); names: "
        + ", ".join(variant.name for variant in VARIANTS),
    )
    parser.add_argument("--contract", type=Path, default=None, help="contract file")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the chosen variants one after the other and print the report."""
    names = {variant.name for variant in VARIANTS}
    unknown = sorted(set(args.only) - names)
    if unknown:
        raise ConfigurationError(
            f"unknown variant {unknown[0]!r}; choose from {', '.join(sorted(names))}."
        )
    overrides: dict[str, object] = {}
    if args.contract:
        overrides["contract_file"] = args.contract
    settings = Settings.from_env(overrides=overrides)
    contract = load_contract(settings.contract_file)
    masker = Masker(settings.secrets())
    chosen = [v for v in VARIANTS if not args.only or v.name in args.only]
    results = []
    for variant in chosen:
        print(f"selftest: {variant.name}: {variant.breaks} ...", file=sys.stderr, flush=True)
        result = run_variant(settings, contract, variant, masker)
        print(result.line(), flush=True)
        results.append(result)
    print(report(results).splitlines()[-1])
    return 0 if all(result.killed for result in results) else 1
