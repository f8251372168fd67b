"""`scanium-e2e traffic`: send planned traffic to a backend and print its ledger.

Replaces the seed's `generate-openai-traffic.sh`: every request has a nonce, the stub LLM
markers fix tokens and faults, and the summary says what the metrics must now show, under
the names of the contract in use (`--contract`; the same arithmetic the checks judge by,
`scanium_e2e.expectations`). Progress goes to stderr, the summary to stdout. Exit codes:
0 every answer as planned, 1 surprises (see the summary), 2 bad input or an unusable
backend (one paragraph).

This module is the only place the traffic generator reads the environment
(SCANIUM_E2E_API_KEY[_FILE], SCANIUM_E2E_BEARER_TOKEN[_FILE]); the library takes
explicit arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from scanium_e2e.contract import load_contract
from scanium_e2e.errors import EXIT_CHECK_FAILED, EXIT_OK, ConfigurationError
from scanium_e2e.expectations import ExpectedIncrease, expected_increases
from scanium_e2e.secrets import Masker
from scanium_e2e.settings import REPO_ROOT
from scanium_e2e.traffic import FAULTS, Ledger, TrafficPlan, TrafficProgress, send_traffic

DEFAULT_CONTRACT = REPO_ROOT / "fixtures" / "contract.json"
API_KEY_ENV = "SCANIUM_E2E_API_KEY"
BEARER_TOKEN_ENV = "SCANIUM_E2E_BEARER_TOKEN"


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value


def _positive_int(text: str) -> int:
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def _tokens(text: str) -> tuple[int, int]:
    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"{text!r} is not IN,OUT (for example 120,45)")
    return _count(parts[0].strip()), _count(parts[1].strip())


def _faults(text: str) -> tuple[str, ...]:
    faults = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [fault for fault in faults if fault not in FAULTS]
    if not faults or unknown:
        raise argparse.ArgumentTypeError(f"{text!r}: use a comma list of {', '.join(FAULTS)}")
    return faults


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `traffic` subcommand."""
    parser = subparsers.add_parser(
        "traffic",
        help="send planned traffic to the backend and print what the metrics must show",
        description=(
            "Send successes, provider errors (stub LLM faults), invalid, unauthorized and "
            "unknown-route requests to POST /v1/assist/chat, then print a ledger summary. "
            f"The API key comes from --api-key-file, {API_KEY_ENV}_FILE or {API_KEY_ENV}; "
            "it is never printed. Exit 0: all answers as planned; 1: surprises; 2: bad "
            "input or unusable backend."
        ),
    )
    parser.add_argument(
        "--base-url", required=True, metavar="URL", help="the backend, e.g. http://host:8080"
    )
    parser.add_argument(
        "--requests", metavar="N", type=_count, default=10, help="successes (default 10)"
    )
    parser.add_argument(
        "--errors", metavar="N", type=_count, default=2, help="provider errors (default 2)"
    )
    parser.add_argument(
        "--faults",
        type=_faults,
        default=("500",),
        help=f"stub faults the errors cycle through: {','.join(FAULTS)} (default 500)",
    )
    parser.add_argument(
        "--invalid", metavar="N", type=_count, default=4, help="400 requests (default 4)"
    )
    parser.add_argument(
        "--unauthorized", metavar="N", type=_count, default=1, help="401 requests (default 1)"
    )
    parser.add_argument(
        "--unknown-route",
        metavar="N",
        type=_count,
        default=3,
        help="GETs to unknown paths, each its own (default 3)",
    )
    parser.add_argument(
        "--provider", default="openai", help="provider label the metrics must carry"
    )
    parser.add_argument(
        "--concurrency",
        metavar="N",
        type=_positive_int,
        default=4,
        help="parallel requests (default 4)",
    )
    parser.add_argument(
        "--rate",
        type=_positive_float,
        metavar="R",
        default=None,
        help="max requests per second (the real backend allows 20 per minute per user)",
    )
    parser.add_argument(
        "--tokens",
        type=_tokens,
        default=(120, 45),
        metavar="IN,OUT",
        help="tokens per success (default 120,45)",
    )
    parser.add_argument("--run-id", default=None, help="run label (default: random)")
    parser.add_argument(
        "--canaries", action="store_true", help="plant fake secrets and PII to hunt for later"
    )
    parser.add_argument(
        "--retry-budget",
        type=_positive_float,
        default=120.0,
        metavar="SECONDS",
        help="total time to wait on 429 Retry-After (default 120)",
    )
    parser.add_argument(
        "--timeout", type=_positive_float, default=30.0, metavar="SECONDS", help="per request"
    )
    parser.add_argument(
        "--api-key-file",
        type=Path,
        default=None,
        metavar="FILE",
        help=f"file holding the backend's API key (else {API_KEY_ENV}[_FILE])",
    )
    parser.add_argument(
        "--bearer-token-file",
        type=Path,
        default=None,
        metavar="FILE",
        help=f"file holding a session token, if required (else {BEARER_TOKEN_ENV}[_FILE])",
    )
    parser.add_argument(
        "--contract",
        type=Path,
        default=DEFAULT_CONTRACT,
        metavar="PATH",
        help="the contract whose metric names and accounting the expected increases follow "
        "(default fixtures/contract.json)",
    )
    parser.add_argument(
        "--json-ledger", type=Path, default=None, metavar="PATH", help="write the ledger as JSON"
    )
    parser.set_defaults(run=run)


def _read_secret_file(path: Path, what: str) -> str:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the {what} file {path}: {exc.strerror}.") from None
    if not value:
        raise ConfigurationError(f"the {what} file {path} is empty.")
    return value


def resolve_secret(flag_file: Path | None, env: Mapping[str, str], name: str, what: str) -> str:
    """The secret from the flag's file, else NAME_FILE, else NAME ("" when none is set)."""
    if flag_file is not None:
        return _read_secret_file(flag_file, what)
    file_name = env.get(f"{name}_FILE", "").strip()
    if file_name and env.get(name):
        raise ConfigurationError(f"set {name} or {name}_FILE, not both.")
    if file_name:
        return _read_secret_file(Path(file_name), what)
    return env.get(name, "").strip()


class ProgressPrinter:
    """Prints a progress line per ~10% of the run, at most one a second otherwise.

    Pauses (429 Retry-After) are always shown: a silent minute would look like a hang.
    """

    def __init__(self, masker: Masker, stream: TextIO) -> None:
        self._masker = masker
        self._stream = stream
        self._last_step = -1
        self._last_time = 0.0

    def __call__(self, progress: TrafficProgress) -> None:
        """Print `progress` if it is worth a line."""
        step = 10 * progress.done // progress.total if progress.total else 10
        now = time.monotonic()
        finished = progress.done == progress.total
        if progress.note or step > self._last_step or finished or now - self._last_time >= 1.0:
            if not progress.note:
                self._last_step = step
            self._last_time = now
            print(f"traffic: {self._masker.mask(progress.describe())}", file=self._stream)


def run(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    """Send the traffic; 0 when every answer was as planned, 1 when there were surprises."""
    environment = os.environ if env is None else env
    # Read first: a bad contract is bad input, found before any request is sent.
    contract = load_contract(args.contract)
    api_key = resolve_secret(args.api_key_file, environment, API_KEY_ENV, "API key")
    if not api_key:
        raise ConfigurationError(
            "no API key for the backend: pass --api-key-file FILE or set "
            f"{API_KEY_ENV} (or {API_KEY_ENV}_FILE)."
        )
    bearer = resolve_secret(args.bearer_token_file, environment, BEARER_TOKEN_ENV, "bearer token")
    masker = Masker([api_key, bearer])
    plan = TrafficPlan(
        api_key=api_key,
        bearer_token=bearer,
        run_id=args.run_id or f"traffic-{secrets.token_hex(4)}",
        provider=args.provider,
        successes=args.requests,
        provider_errors=args.errors,
        faults=args.faults,
        validation_errors=args.invalid,
        unauthorized=args.unauthorized,
        unknown_route=args.unknown_route,
        input_tokens=args.tokens[0],
        output_tokens=args.tokens[1],
        concurrency=args.concurrency,
        max_rate=args.rate,
        canaries=args.canaries,
        retry_budget_s=args.retry_budget,
        timeout_s=args.timeout,
    )
    ledger = send_traffic(args.base_url, plan, progress=ProgressPrinter(masker, sys.stderr))
    for value in ledger.planted():
        masker.add_canary(value)
    expected = expected_increases(ledger, contract)
    print(masker.mask(ledger.summary([(line.selector, line.increase) for line in expected])))
    if args.json_ledger is not None:
        _write_ledger(args.json_ledger, _ledger_json(ledger, contract.source, expected), plan)
        print(f"ledger written to {args.json_ledger}", file=sys.stderr)
    return EXIT_CHECK_FAILED if ledger.surprises else EXIT_OK


def _ledger_json(
    ledger: Ledger, contract: str, expected: Sequence[ExpectedIncrease]
) -> dict[str, Any]:
    """The ledger, with the increases the contract's metrics must show spelled out."""
    data = ledger.to_json()
    data["expected"] = {"contract": contract, "increases": [line.to_json() for line in expected]}
    return data


def _write_ledger(path: Path, data: dict[str, Any], plan: TrafficPlan) -> None:
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    # The ledger holds canaries on purpose, but never the real credentials.
    for secret in (plan.api_key, plan.bearer_token):
        if secret and secret in text:
            raise ConfigurationError(f"refusing to write {path}: it would contain a credential.")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot write the ledger to {path}: {exc.strerror}.") from None
