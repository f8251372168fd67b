"""`scanium-e2e dashboards`: replay Grafana dashboards against Mimir, panel by panel.

Prints a per-panel table for each dashboard (or, with `--format json`, one JSON document
with every panel's verdict and its queries in full). Exit codes: 0 every panel has data (or is
allowed empty, or has nothing to replay), 1 a panel is empty or its query errors, 2 bad
input (missing or malformed file, bad flag) or Mimir unreachable, as one paragraph.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

from scanium_e2e.clients.query import QueryError, StoreClient
from scanium_e2e.dashboards import (
    check_dashboard,
    dashboard_record,
    format_report,
    load_dashboards,
    unused_allowances,
)
from scanium_e2e.errors import (
    EXIT_CHECK_FAILED,
    EXIT_NOTHING_CHECKED,
    EXIT_OK,
    ConfigurationError,
    EndpointError,
)
from scanium_e2e.options import parse_var_pins
from scanium_e2e.polling import TransientError
from scanium_e2e.promql import PromQLSyntaxError, format_duration, parse_duration
from scanium_e2e.verdict.empty_query import QueryClient

DEFAULT_SINCE_S = 15 * 60


def _duration(text: str) -> float:
    try:
        seconds = parse_duration(text)
    except PromQLSyntaxError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (e.g. 15s, 5m, 1h)") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be longer than zero")
    return seconds


def _timestamp(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time (e.g. 2026-11-26T10:00:00Z)"
        ) from None
    # A time without zone is read as UTC, Mimir's clock.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _pin(text: str) -> str:
    """A `--var` pin, checked by the one rule of options.parse_var_pins."""
    try:
        parse_var_pins([text])
    except ConfigurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _pair(what: str) -> Callable[[str], tuple[str, str]]:
    def parse(text: str) -> tuple[str, str]:
        key, sep, value = text.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return key.strip(), value.strip()

    return parse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `dashboards` subcommand."""
    parser = subparsers.add_parser(
        "dashboards",
        help="replay Grafana dashboards against Mimir and report empty panels",
        description=(
            "Replay every panel query of Grafana dashboard JSON files (directories stand for "
            "their *.json files) against Mimir over a time window, expanding template "
            "variables and macros as Grafana does, and explain empty panels. Exit 0: every "
            "panel has data or is allowed empty; 1: a panel is empty or errors; 2: bad input "
            "or Mimir unreachable; 5: nothing checked (every panel of every dashboard was "
            "skipped: text, Loki, Tempo)."
        ),
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="dashboard JSON")
    parser.add_argument("--mimir-url", required=True, help="e.g. http://127.0.0.1:9009")
    parser.add_argument("--prefix", default="/prometheus", help="query API path prefix")
    parser.add_argument("--tenant", default="", help="X-Scope-OrgID (none by default)")
    window = parser.add_mutually_exclusive_group()
    window.add_argument(
        "--since", type=_duration, default=None, metavar="DURATION", help="window (default 15m)"
    )
    window.add_argument("--start", type=_timestamp, default=None, metavar="ISO")
    parser.add_argument("--end", type=_timestamp, default=None, metavar="ISO", help="(now)")
    parser.add_argument(
        "--scrape-interval",
        type=_duration,
        default=15.0,
        metavar="DURATION",
        help="the data source's scrape interval, for $__rate_interval (default 15s)",
    )
    parser.add_argument(
        "--allow-empty",
        action="append",
        type=_pair('"TITLE=REASON" (a panel title or id, "=", why it may be empty)'),
        default=[],
        metavar='"TITLE=REASON"',
        help="a panel that may be empty, and why (repeatable)",
    )
    parser.add_argument(
        "--var",
        action="append",
        type=_pin,
        default=[],
        metavar="NAME=VALUE",
        help="pin a template variable, like var-NAME=VALUE in a Grafana URL (repeatable)",
    )
    parser.add_argument(
        "--timeout", type=_duration, default=5.0, metavar="SECONDS", help="per query (5s)"
    )
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table (default; long cells cut) or json (every panel's title, id, status, "
        "detail, reasons and full queries, on stdout)",
    )
    parser.set_defaults(run=run)


def window_of(args: argparse.Namespace, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The check window from --since or --start/--end."""
    end = args.end or now or datetime.now(UTC)
    if args.start is not None:
        start: datetime = args.start
    else:
        start = end - timedelta(seconds=args.since or DEFAULT_SINCE_S)
    if end <= start:
        raise ConfigurationError(
            f"the window is empty: --start {start.isoformat()} is not before --end "
            f"{end.isoformat()}."
        )
    return start, end


def _check_url(url: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigurationError(
            f"--mimir-url {url!r} is not an http(s) URL; use e.g. http://127.0.0.1:9009."
        )


def _preflight(client: QueryClient, where: str, start: datetime, end: datetime) -> None:
    """One cheap query, so an unreachable or wrong URL is one clear paragraph."""
    try:
        client.label_names(start=start, end=end)
    except TransientError as exc:
        raise EndpointError(
            f"{exc}; check --mimir-url and that Mimir is running ({where})."
        ) from None
    except QueryError as exc:
        raise EndpointError(
            f"{where} does not answer like a Prometheus API ({_refusal(exc)}); check --mimir-url, "
            "--prefix (Mimir serves queries under /prometheus) and --tenant (a multi-tenant "
            "Mimir answers 401 without one)."
        ) from None


def _refusal(exc: QueryError) -> str:
    """`HTTP 404: <the store's words>`, or the reason alone when no status came with it."""
    return f"HTTP {exc.status}: {exc.reason}" if exc.status else exc.reason


def run(args: argparse.Namespace, client: QueryClient | None = None) -> int:
    """Check the dashboards; 0 when every panel has data or is allowed empty, else 1."""
    dashboards = load_dashboards(args.paths)
    start, end = window_of(args)
    allow_empty = dict(args.allow_empty)
    # One rule for --var here, in pytest and in SCANIUM_E2E_VARS (options.parse_var_pins).
    overrides = {name: list(values) for name, values in parse_var_pins(args.var).items()}
    for name in overrides:
        if all(dashboard.variable(name) is None for dashboard in dashboards):
            print(f"warning: --var {name}: no dashboard has a variable ${name}", file=sys.stderr)
    owned = client is None
    if client is None:
        _check_url(args.mimir_url)
        # --mimir-url names the user's store: Mimir, or any Prometheus-compatible API.
        client = StoreClient(
            args.mimir_url,
            prefix=args.prefix,
            tenant=args.tenant,
            timeout_s=args.timeout,
            name="Mimir",
        )
    where = args.mimir_url.rstrip("/") + args.prefix
    try:
        _preflight(client, where, start, end)
        results = []
        for dashboard in dashboards:
            try:
                result = check_dashboard(
                    client,
                    dashboard,
                    start,
                    end,
                    scrape_interval_s=args.scrape_interval,
                    allow_empty=allow_empty,
                    variables=overrides,
                )
            except TransientError as exc:
                raise EndpointError(f"{exc} while checking {dashboard.source}.") from None
            results.append(result)
            if args.format == "table":
                print(format_report(result), end="\n\n", flush=True)
    finally:
        if owned and isinstance(client, StoreClient):
            client.close()
    for key in unused_allowances(results, allow_empty):
        print(f"warning: --allow-empty {key!r} matches no panel", file=sys.stderr)
    failed = sum(len(r.failed) for r in results)
    panels = sum(len(r.panels) for r in results)
    unchecked = [r.dashboard.title or r.dashboard.source for r in results if not r.checked]
    if args.format == "json":
        document = {
            "dashboards": [dashboard_record(result) for result in results],
            "panels": panels,
            "failing": failed,
            "nothing_checked": unchecked,
        }
        print(json.dumps(document, indent=2))
    else:
        span = format_duration((end - start).total_seconds())
        line = f"{len(results)} dashboard(s), {panels} panels over {span}: {failed} failing"
        if unchecked:
            shown = ", ".join(repr(title) for title in unchecked)
            line += f"; nothing checked in {len(unchecked)} ({shown}): every panel was skipped"
        print(line)
    if failed:
        return EXIT_CHECK_FAILED
    return EXIT_NOTHING_CHECKED if len(unchecked) == len(results) else EXIT_OK
