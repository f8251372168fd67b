"""Imports follow the data flow: settings -> stack -> traffic -> checks -> verdict.

Each room of the library (a package or a top-level module of src/scanium_e2e) has a layer;
a room may import rooms of its own layer or lower ones, never a higher one, and no rooms
import each other in a cycle. Every import counts, also those inside functions or under
TYPE_CHECKING: a cycle hidden in a function is still a cycle of ideas.
"""

from __future__ import annotations

import ast
from collections import defaultdict

from scanium_e2e.settings import REPO_ROOT

PACKAGE = REPO_ROOT / "src" / "scanium_e2e"

# Low to high. A new room must be placed here: the test fails on an unknown room.
LAYERS: tuple[tuple[str, ...], ...] = (
    # what everything shares: errors, parsing, the contract, findings, the store kinds
    ("errors", "options", "secrets", "polling", "promql", "metrics_text", "contract", "resources"),
    ("findings", "stores", "progress"),
    ("settings",),
    ("clients",),  # the store's Prometheus API, Alloy's component API
    ("stack",),  # start or attach
    ("pipeline",),  # a stack's clients, contract and masker, handed to traffic and checks
    ("traffic",),  # plan, send, ledger
    ("expectations",),  # what a plan must add to each metric of the contract
    ("verdict",),  # why a hop is broken, why a query is empty
    ("dashboards",),
    ("checks",),
    ("suite_run", "external_run", "mutation"),  # the real suite in a subprocess
    ("session", "alerts"),  # what a session orchestrates above the checks
    ("suite_plugin", "cli", "__main__", "__init__"),
    ("pytest_plugin",),  # the entry point: the options, and the suite's hooks when wanted
)
LAYER_OF = {room: index for index, rooms in enumerate(LAYERS) for room in rooms}


def room_of(module: str) -> str | None:
    """`scanium_e2e.checks.counts` -> `checks`; None outside the library."""
    parts = module.split(".")
    if parts[0] != "scanium_e2e":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def imports() -> dict[tuple[str, str], list[str]]:
    """(importing room, imported room) -> the files that import it."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        here = relative.parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                there = room_of(name)
                if there is not None and there != here:
                    edges[(here, there)].append(str(relative))
    return edges


Edges = dict[tuple[str, str], list[str]]


def upward(edges: Edges) -> list[str]:
    """Each import of a higher layer's room, as a sentence naming the files."""
    return sorted(
        f"{here} (layer {LAYER_OF[here]}) imports {there} (layer {LAYER_OF[there]}) in "
        f"{', '.join(sorted(set(files)))}"
        for (here, there), files in edges.items()
        if LAYER_OF.get(here, 99) < LAYER_OF.get(there, 99)
    )


def cycles(edges: Edges) -> list[str]:
    """Each import that closes a cycle between rooms."""
    graph: dict[str, set[str]] = defaultdict(set)
    for here, there in edges:
        graph[here].add(there)

    def reaches(start: str, goal: str) -> bool:
        seen: set[str] = set()
        todo = [start]
        while todo:
            room = todo.pop()
            if room == goal:
                return True
            if room not in seen:
                seen.add(room)
                todo.extend(graph[room])
        return False

    return sorted(
        f"{here} -> {there} -> ... -> {here}"
        for here in list(graph)
        for there in list(graph[here])
        if reaches(there, here)
    )


def test_every_room_has_a_layer() -> None:
    rooms = {
        path.relative_to(PACKAGE).parts[0].removesuffix(".py") for path in PACKAGE.rglob("*.py")
    }
    assert rooms - set(LAYER_OF) == set(), "place the new room in LAYERS"


def test_nothing_low_imports_something_high() -> None:
    found = upward(imports())
    assert not found, "\n".join(found)


def test_no_rooms_import_each_other_in_a_cycle() -> None:
    found = cycles(imports())
    assert not found, "\n".join(found)


def test_the_rules_catch_what_the_issue_found() -> None:
    """The checks can fail: traffic/session.py importing checks (as it once did) is both
    an upward import and, with checks importing traffic, a cycle."""
    edges: Edges = {("traffic", "checks"): ["traffic/session.py"], ("checks", "traffic"): ["x"]}
    assert upward(edges) == ["traffic (layer 6) imports checks (layer 10) in traffic/session.py"]
    assert cycles(edges) == [
        "checks -> traffic -> ... -> checks",
        "traffic -> checks -> ... -> traffic",
    ]
