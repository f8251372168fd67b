"""The HTTP layer against the ledger: what a wrong HTTP count is, named from the counts.

The ledger knows every answer's method, path and status; the contract (`http`) says which
route template the backend labels each kind with. Two shapes are recognised, both final
once a scrape after the traffic is in the store (counters only grow, series never vanish):

- routes per path: the route label of the unknown-path requests is the path itself (with
  or without its query string), one series per path, where the contract has one value;
- statuses that are not the answers': per (method, route) the count is the ledger's, split
  over other status codes (every answer labelled 200, say).
"""

from __future__ import annotations

from collections.abc import Callable

from scanium_e2e.contract import Contract
from scanium_e2e.expectations import HTTP_LABELS
from scanium_e2e.findings import Finding, Kind
from scanium_e2e.traffic import Ledger
from scanium_e2e.traffic.run import Counts

# Route values quoted in a finding: the rest are counted.
_SHOWN_ROUTES = 4


def unknown_paths(ledger: Ledger) -> frozenset[str]:
    """The paths of the ledger's requests to paths no route serves."""
    return frozenset(entry.path for entry in ledger.entries if entry.kind == "unknown_route")


def per_path_finding(
    metric: str, increase: Counts, paths: frozenset[str], contract: Contract
) -> Finding | None:
    """The finding when route values of `increase` are the ledger's unknown paths."""
    if contract.http is None:
        return None
    route_at = HTTP_LABELS.index("route")
    routes = sorted({key[route_at] for key in increase if _path_of(key[route_at]) in paths})
    if not routes:
        return None
    queried = any("?" in route for route in routes)
    shown = [_path_of(route) for route in routes[:_SHOWN_ROUTES]]
    more = len(routes) - len(shown)
    return Finding(
        Kind.ROUTE_PER_PATH,
        subject=metric,
        expected=f"route={contract.http.unknown.route}",
        seen=", ".join(f"route={path}" for path in shown) + (f" and {more} more" if more else ""),
        detail="; the route value carries the query string too" if queried else "",
        hop=1,
    )


def status_finding(metric: str, expected: Counts, increase: Counts) -> Finding | None:
    """The finding when, per (method, route), the count is the ledger's but its statuses
    are not the answers' (our own stack: exact counts)."""
    planned = _by_route(expected)
    counted = _by_route(increase)
    if planned == counted or set(planned) != set(counted):
        return None
    if any(sum(planned[route].values()) != sum(counted[route].values()) for route in planned):
        return None
    return Finding(
        Kind.HTTP_STATUS_DIFFERS,
        subject=metric,
        expected=_statuses(planned),
        seen=_statuses(counted),
        hop=1,
    )


def http_explainer(
    metric: str, expected: Counts, ledger: Ledger, contract: Contract, *, exact: bool
) -> Callable[[Counts], Finding | None]:
    """What a count wait of an HTTP role asks of each increase it reads."""
    paths = unknown_paths(ledger)

    def explain(increase: Counts) -> Finding | None:
        found = per_path_finding(metric, increase, paths, contract)
        if found is None and exact:
            found = status_finding(metric, expected, increase)
        return found

    return explain


def _path_of(route: str) -> str:
    return route.split("?", 1)[0]


def _by_route(counts: Counts) -> dict[tuple[str, str], dict[str, float]]:
    method_at, route_at, status_at = (HTTP_LABELS.index(label) for label in HTTP_LABELS)
    grouped: dict[tuple[str, str], dict[str, float]] = {}
    for key, value in counts.items():
        if not value:
            continue
        statuses = grouped.setdefault((key[method_at], key[route_at]), {})
        statuses[key[status_at]] = statuses.get(key[status_at], 0.0) + value
    return grouped


def _statuses(grouped: dict[tuple[str, str], dict[str, float]]) -> str:
    """`GET unmatched: 404x4 and POST /v1/assist/chat: 200x8, 400x4`."""
    return " and ".join(
        f"{method} {route}: "
        + ", ".join(f"{status}x{n:g}" for status, n in sorted(grouped[(method, route)].items()))
        for method, route in sorted(grouped)
    )
