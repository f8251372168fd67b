"""`scanium-e2e alerts`: judge alert rules against an existing store, reading only.

Prometheus rule files: each rule's expression is asked of the store's query engine (the
suite writes nothing to a store it did not start, so no ruler is loaded; a `for:` cannot be
waited out by one query, so a rule whose condition holds is reported pending). Grafana
rules: evaluated as Grafana evaluates them (README, "Alert rules"). Prints the rule table,
or with `--format json` every rule's state with its series. Exit codes: 0 no alerting rule
holds and none errors, 1 one does, 4 bad input (a malformed or unknown file, invalid PromQL,
an unreachable store), as one paragraph.

`--coverage` reads no store: it starts stacks of its own (the mutation harness's variants
and a healthy one), runs the suite against each and judges which rules tell each failure
class apart from health (alerts/coverage.py); with `--alertmanager-config`, where each
noticing rule's alert goes through the stacks' own Alertmanager. The options are those of
`pytest e2e/` for the same things (`--alert-rules`, `--datasources`,
`--alertmanager-config`, `--contract`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from scanium_e2e.alerts.coverage import table as coverage_table
from scanium_e2e.alerts.coverage_run import HEALTHY, coverage_of, healthy_variant, judge_rules
from scanium_e2e.alerts.grafana_rules import condition_text
from scanium_e2e.alerts.judge import judge_healthy
from scanium_e2e.alerts.model import RuleKind, State
from scanium_e2e.alerts.report import document, table
from scanium_e2e.alerts.routing import load_routing
from scanium_e2e.alerts.scenarios import StoreTarget, load_inputs
from scanium_e2e.alerts.session import RULES
from scanium_e2e.clients.query import QueryError, StoreClient
from scanium_e2e.contract import AlertExpectations, load_contract
from scanium_e2e.errors import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    EXIT_OK,
    ConfigurationError,
    ScaniumE2EError,
    StackError,
)
from scanium_e2e.mutation import VariantResult, load_catalog, run_variants
from scanium_e2e.polling import TransientError
from scanium_e2e.secrets import Masker
from scanium_e2e.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `alerts` subcommand."""
    parser = subparsers.add_parser(
        "alerts",
        help="judge alert rules (Prometheus rule files, Grafana alert provisioning) on a store",
        description=(
            "Evaluate alert rules against a Prometheus-compatible store (Mimir, Cortex) and "
            "print each rule's state; or, with --coverage, judge on stacks of its own which "
            "rules tell each failure class apart from health. Folders stand for their *.yml, "
            "*.yaml and *.json files; Grafana rules resolve their data sources from the "
            "datasources/ folder of their provisioning tree unless --datasources says. "
            "Exit 0: no alerting rule holds (--coverage: every must-page class is noticed); "
            "1: one holds, errors or lacks data (a class goes unnoticed); 4: bad input."
        ),
    )
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="rule files or folders")
    parser.add_argument(
        "--alert-rules",
        nargs="+",
        action="extend",
        type=Path,
        default=[],
        metavar="PATH",
        help="rule files or folders (as `pytest e2e/ --scanium-alert-rules`; with the PATHs)",
    )
    parser.add_argument(
        "--mimir-url", default=None, help="the store to read, e.g. http://127.0.0.1:9009"
    )
    parser.add_argument("--prefix", default="/prometheus", help="query API path prefix")
    parser.add_argument("--tenant", default="", help="X-Scope-OrgID (none by default)")
    parser.add_argument(
        "--datasources",
        nargs="+",
        type=Path,
        default=[],
        metavar="PATH",
        help="Grafana data source provisioning the rules' datasourceUid resolve through "
        "(default: the rules' provisioning tree's datasources/, else ours)",
    )
    parser.add_argument(
        "--alertmanager-config",
        type=Path,
        default=None,
        metavar="PATH",
        help="with --coverage: route each noticing rule's alert through this Alertmanager "
        "config on the stacks' own Alertmanager",
    )
    parser.add_argument(
        "--coverage",
        action="store_true",
        help="start the harness's stacks and judge which rules notice each failure class",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="VARIANT",
        help="with --coverage: only this variant (repeatable; e2e/mutation_catalog.py)",
    )
    parser.add_argument(
        "--workers", type=int, default=3, help="with --coverage: stacks run at once"
    )
    parser.add_argument(
        "--contract",
        type=Path,
        default=None,
        metavar="PATH",
        help="with --coverage: the contract whose `alerts.pages` says which classes must page",
    )
    parser.add_argument(
        "--scrape-interval",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="the store's scrape interval, the smallest step of a range query (default 15)",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Judge the rules once, now (or their coverage); bad input is one paragraph and exit 4
    (never a traceback)."""
    try:
        return _coverage(args) if args.coverage else _run(args)
    except ScaniumE2EError as exc:
        print(f"scanium-e2e alerts: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except TransientError as exc:
        print(f"scanium-e2e alerts: {exc}; check --mimir-url.", file=sys.stderr)
        return EXIT_BAD_INPUT


def _rule_paths(args: argparse.Namespace) -> list[Path]:
    paths = [*args.paths, *args.alert_rules]
    if not paths:
        raise ConfigurationError("give the rule files or folders (PATH or --alert-rules PATH).")
    return paths


def _run(args: argparse.Namespace) -> int:
    if args.mimir_url is None:
        raise ConfigurationError(
            "give --mimir-url (the store to judge the rules on), or --coverage (stacks of the "
            "suite's own)."
        )
    if args.alertmanager_config is not None:
        raise ConfigurationError(
            "--alertmanager-config routes alerts on an Alertmanager the suite runs "
            "(--coverage, or pytest e2e/): scanium-e2e alerts never posts an alert to your "
            "store's Alertmanager, which would page someone."
        )
    inputs = load_inputs(_rule_paths(args), args.datasources)
    client = StoreClient(args.mimir_url, prefix=args.prefix, tenant=args.tenant, name="the store")
    try:
        try:
            client.label_names()
        except QueryError as exc:
            print(
                f"scanium-e2e alerts: {args.mimir_url}{args.prefix} does not answer like a "
                f"Prometheus API ({exc.reason}); check --mimir-url and --prefix.",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        target = StoreTarget("now", client, None, scrape_interval_s=args.scrape_interval)
        states = target.states(inputs, inputs.rules, "rules", after=datetime.now(UTC))
        verdict = judge_healthy(
            states,
            AlertExpectations(),
            client=client,
            explain=target.explainer(),
            conditions={rule.ref.name: condition_text(rule) for rule in inputs.rules.grafana},
        )
    finally:
        client.close()
    verdict.name = "now"
    if args.format == "json":
        print(
            json.dumps(
                document([verdict], rule_files=[str(p) for p in inputs.rules.files]), indent=2
            )
        )
    else:
        print(table([verdict]))
        for finding in verdict.findings:
            print(f"- {finding.render()}")
        for note in inputs.rules.skipped:
            print(f"skipped: {note}")
    holding = [
        s
        for s in states
        if s.rule.kind is RuleKind.ALERTING and (s.noticed or s.state is State.ERROR)
    ]
    return EXIT_CHECK_FAILED if holding or verdict.findings else EXIT_OK


def _coverage(args: argparse.Namespace) -> int:
    """The harness's variants and a healthy stack, each judged by the rules; the class x
    rule table; exit 1 when a class fails the contract's `alerts.pages`."""
    overrides: dict[str, object] = {"alert_rules": tuple(_rule_paths(args))}
    if args.datasources:
        overrides["datasources"] = tuple(args.datasources)
    if args.contract is not None:
        overrides["contract_file"] = args.contract
    settings = Settings.from_env(overrides=overrides)
    contract = load_contract(settings.contract_file)
    inputs = load_inputs(settings.alert_rules, settings.datasources)
    config = args.alertmanager_config
    routing = load_routing(config) if config is not None else None
    catalog = load_catalog()
    names = {variant.name for variant in catalog.harness}
    unknown = sorted(set(args.only) - names)
    if unknown:
        raise ConfigurationError(
            f"unknown variant {unknown[0]!r}; choose from {', '.join(sorted(names))}."
        )
    chosen = [v for v in catalog.harness if not args.only or v.name in args.only]
    masker = Masker(settings.secrets())

    def progress(result: VariantResult) -> None:
        print(f"alerts coverage: {result.variant.name} judged ({result.seconds:.1f}s)",
              file=sys.stderr, flush=True)  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="scanium-coverage-") as root:
        done = run_variants(
            settings,
            (healthy_variant(routed=routing is not None), *chosen),
            masker,
            Path(root),
            workers=args.workers,
            progress=progress,
            after_suite=judge_rules(settings, {RULES: inputs}, routing),
        )
    classes = coverage_of(done, RULES, contract)
    if classes is None:
        healthy = next(r for r in done if r.variant.name == HEALTHY)
        raise StackError(f"the healthy stack's rules could not be read: {healthy.report}")
    if args.format == "json":
        print(json.dumps([covered.as_dict() for covered in classes], indent=2))
    else:
        print(coverage_table(classes, routed=routing is not None))
    findings = [f for covered in classes if (f := covered.finding()) is not None]
    for finding in findings:
        print(f"- {finding.render()}")
    return EXIT_CHECK_FAILED if findings else EXIT_OK
