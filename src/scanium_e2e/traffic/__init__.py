"""The traffic generator: send a `TrafficPlan` to the backend, get back a `Ledger`.

The ledger holds exactly what was sent and what came back; `scanium_e2e.expectations`
derives from it and the contract what the backend's metrics must show, so the checks can
compare the store against it (the flow is settings -> stack -> traffic -> checks ->
verdict). `docs/traffic.md` describes the requests and the CLI.
"""

from __future__ import annotations

from scanium_e2e.traffic.canaries import Canaries
from scanium_e2e.traffic.ledger import Ledger, LedgerEntry
from scanium_e2e.traffic.plan import FAULTS, KINDS, Fault, Kind, TrafficPlan
from scanium_e2e.traffic.send import (
    ProgressCallback,
    TrafficProgress,
    load_ledger,
    send_traffic,
)
from scanium_e2e.traffic.shapes import OutboundRequest, build_requests

__all__ = [
    "FAULTS",
    "KINDS",
    "Canaries",
    "Fault",
    "Kind",
    "Ledger",
    "LedgerEntry",
    "OutboundRequest",
    "ProgressCallback",
    "TrafficPlan",
    "TrafficProgress",
    "build_requests",
    "load_ledger",
    "send_traffic",
]
