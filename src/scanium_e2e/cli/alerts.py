"""`scanium-e2e alerts`: judge alert rules against an existing store, reading only.

Prometheus rule files: each rule's expression is asked of the store's query engine (the
suite writes nothing to a store it did not start, so no ruler is loaded; a `for:` cannot be
waited out by one query, so a rule whose condition holds is reported pending). Grafana
rules: evaluated as Grafana evaluates them (README, "Alert rules"). Prints the rule table,
or with `--format json` every rule's state with its series. Exit codes: 0 no alerting rule
holds and none errors, 1 one does, 4 bad input (a malformed or unknown file, invalid PromQL,
an unreachable store), as one paragraph.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from scanium_e2e.alerts.grafana_rules import condition_text
from scanium_e2e.alerts.judge import judge_healthy
from scanium_e2e.alerts.model import RuleKind, State
from scanium_e2e.alerts.report import document, table
from scanium_e2e.alerts.scenarios import StoreTarget, load_inputs
from scanium_e2e.clients.query import QueryError, StoreClient
from scanium_e2e.contract import AlertExpectations
from scanium_e2e.errors import ScaniumE2EError
from scanium_e2e.polling import TransientError

EXIT_OK = 0
EXIT_RULES_HOLD = 1
EXIT_BAD_INPUT = 4


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `alerts` subcommand."""
    parser = subparsers.add_parser(
        "alerts",
        help="judge alert rules (Prometheus rule files, Grafana alert provisioning) on a store",
        description=(
            "Evaluate alert rules against a Prometheus-compatible store (Mimir, Cortex) and "
            "print each rule's state. Folders stand for their *.yml, *.yaml and *.json files. "
            "Exit 0: no alerting rule holds; 1: one holds, errors or lacks data; 4: bad input."
        ),
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="rule files or folders")
    parser.add_argument("--mimir-url", required=True, help="e.g. http://127.0.0.1:9009")
    parser.add_argument("--prefix", default="/prometheus", help="query API path prefix")
    parser.add_argument("--tenant", default="", help="X-Scope-OrgID (none by default)")
    parser.add_argument(
        "--datasources",
        nargs="+",
        type=Path,
        default=[],
        metavar="PATH",
        help="Grafana data source provisioning the rules' datasourceUid resolve through "
        "(default: fixtures/grafana/provisioning/datasources)",
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
    """Judge the rules once, now; bad input is one paragraph and exit 4 (never a traceback)."""
    try:
        return _run(args)
    except ScaniumE2EError as exc:
        print(f"scanium-e2e alerts: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except TransientError as exc:
        print(f"scanium-e2e alerts: {exc}; check --mimir-url.", file=sys.stderr)
        return EXIT_BAD_INPUT


def _run(args: argparse.Namespace) -> int:
    inputs = load_inputs(args.paths, args.datasources)
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
    return EXIT_RULES_HOLD if holding or verdict.findings else EXIT_OK
