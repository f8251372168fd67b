"""The user's Alloy config as Alloy evaluated it: which components the suite verifies.

Alloy syntax has no maintained Python parser, and a reader of our own would miss what
Alloy computes (`env()`, `coalesce()`, references between components). So the config is
read by Alloy itself (`stack/alloy_preflight.py`) and this module only looks at Alloy's
component API: each component's id, its references and its evaluated arguments. From it
`discover` picks the `prometheus.scrape` component that targets the backend and the
`prometheus.remote_write` it forwards to, and `network_aliases` derives the host names the
stack must answer so that the config runs unchanged.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scanium_e2e.clients.alloy import AlloyClient, decode_arguments
from scanium_e2e.errors import ConfigurationError
from scanium_e2e.promql import PromQLSyntaxError, parse_duration

if TYPE_CHECKING:
    from scanium_e2e.stack.otlp_route import OtlpRoute

SCRAPE = "prometheus.scrape"
REMOTE_WRITE = "prometheus.remote_write"
# What the stack's services listen on (docker-compose.test.yml): a config must point there.
BACKEND_PORT = 8080
STORE_PORT = 9009
STORE_PUSH_PATH = "/api/v1/push"
# The aliases the stack always has (our own config uses them).
DEFAULT_ALIASES: Mapping[str, tuple[str, ...]] = {
    "backend": ("scanium-backend",),
    "store": ("mimir",),
}


@dataclass(frozen=True)
class AlloyComponent:
    """One component as Alloy's API lists it, with its evaluated arguments."""

    id: str
    references_to: tuple[str, ...] = ()
    arguments: Mapping[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """`prometheus.scrape` for `prometheus.scrape.backend`."""
        return self.id.rsplit(".", 1)[0] if "." in self.id else self.id

    @classmethod
    def from_api(cls, listed: Mapping[str, Any], detail: Mapping[str, Any]) -> AlloyComponent:
        """From the list entry (id, references) and the component's own JSON (arguments)."""
        return cls(
            id=str(listed.get("localID") or listed.get("id") or ""),
            references_to=tuple(str(ref) for ref in listed.get("referencesTo") or ()),
            arguments=decode_arguments(dict(detail)),
        )


@dataclass(frozen=True)
class PipelineComponents:
    """What the suite verifies in the user's config, and why those components."""

    scrape: str
    job: str
    target: str
    metrics_path: str
    remote_write: str
    remote_write_url: str
    # The backend job's scrape interval (Alloy's default is 1m): rates need two scrapes.
    scrape_interval_s: float = 60.0
    # Components the suite does not verify: their endpoints are not part of this stack.
    not_in_stack: tuple[str, ...] = ()
    chosen_because: str = ""
    # The OTLP road the backend pushes by (None: the contract names none), and why that
    # receiver.
    otlp: OtlpRoute | None = None
    otlp_because: str = ""

    @property
    def backend_host(self) -> str:
        """The host name the config scrapes the backend at."""
        return self.target.rsplit(":", 1)[0]

    @property
    def store_host(self) -> str:
        """The host name the config remote-writes to."""
        return urlsplit(self.remote_write_url).hostname or ""

    @property
    def store_hosts(self) -> tuple[str, ...]:
        """Every host name the verified components write to (the OTLP road's too)."""
        urls = [self.remote_write_url]
        if self.otlp is not None:
            urls += [self.otlp.remote_write_url, self.otlp.span_remote_write_url]
        return tuple(sorted({urlsplit(url).hostname or "" for url in urls} - {""}))

    def with_otlp(self, route: OtlpRoute, because: str) -> PipelineComponents:
        """These components and the OTLP road's: its components are verified too."""
        return replace(
            self,
            otlp=route,
            otlp_because=because,
            not_in_stack=tuple(c for c in self.not_in_stack if c not in route.components),
        )

    def describe(self) -> str:
        """Lines for the pytest report header."""
        lines = [
            f"verifies {self.scrape} (job {self.job!r}, target {self.target}"
            f"{self.metrics_path}, every {self.scrape_interval_s:g}s) -> {self.remote_write} "
            f"({self.remote_write_url}); {self.chosen_because}"
        ]
        if self.otlp is not None:
            lines.append(f"{self.otlp.describe()}; {self.otlp_because}")
        if self.not_in_stack:
            lines.append("not part of this stack: " + ", ".join(self.not_in_stack))
        return "\n".join(lines)


# The components whose arguments `discover` and `otlp_route.follow` read (asking for the
# others' would only cost time): the scrape and write path, and the OTLP road's wiring.
_READ_ARGUMENTS = ("prometheus.", "otelcol.receiver.", "otelcol.processor.", "otelcol.connector.")


def live_components(client: AlloyClient) -> list[AlloyComponent]:
    """Every component of a running Alloy, with the arguments of those the suite reads."""
    return [
        AlloyComponent.from_api(
            item,
            client.component(str(item["localID"]))
            if str(item["localID"]).startswith(_READ_ARGUMENTS)
            else {},
        )
        for item in client.components()
        if item.get("localID")
    ]


def _targets(component: AlloyComponent) -> list[dict[str, str]]:
    raw = component.arguments.get("targets") or []
    return [{str(k): str(v) for k, v in item.items()} for item in raw if isinstance(item, Mapping)]


def _port(address: str) -> int | None:
    _, sep, port = address.rpartition(":")
    return int(port) if sep and port.isdigit() else None


def reachable_writers(
    start: AlloyComponent, by_id: Mapping[str, AlloyComponent]
) -> tuple[list[str], list[str]]:
    """The remote_write components `start` forwards to (through relabel components, say),
    and the components on the way."""
    writers: list[str] = []
    path: list[str] = []
    seen = {start.id}
    frontier = list(start.references_to)
    while frontier:
        current = frontier.pop(0)
        if current in seen or current not in by_id:
            continue
        seen.add(current)
        component = by_id[current]
        if component.kind == REMOTE_WRITE:
            writers.append(current)
        elif component.kind.startswith("prometheus."):
            # prometheus.relabel and friends pass samples on; discovery.* feed targets.
            path.append(current)
            frontier.extend(component.references_to)
    return writers, path


def writer_url(component: AlloyComponent) -> str:
    """The URL a prometheus.remote_write pushes to (its first endpoint's), or ""."""
    endpoints = component.arguments.get("endpoint") or []
    first = endpoints[0] if endpoints and isinstance(endpoints[0], Mapping) else {}
    return str(first.get("url", ""))


def seconds_of(value: Any, default: float) -> float:
    """A duration argument in seconds (Alloy shows one as Go prints it, "5s", "1m30s", and
    omits a default one: `default` then)."""
    if not value:
        return default
    try:
        return parse_duration(str(value))
    except PromQLSyntaxError:
        return default


def _job_of(component: AlloyComponent, target: Mapping[str, str]) -> str:
    # Alloy: a target's own `job` label wins; else job_name; else the component's id.
    return target.get("job") or str(component.arguments.get("job_name") or component.id)


def _choose_scrape(
    candidates: list[AlloyComponent], named: str, job: str
) -> tuple[AlloyComponent, str]:
    if named:
        for candidate in candidates:
            if candidate.id == named:
                return candidate, f"{named} is named by the contract (scrape.component)"
    by_job = [c for c in candidates if any(_job_of(c, t) == job for t in _targets(c))]
    if len(by_job) == 1:
        return by_job[0], f"discovered: its job is the contract's {job!r}"
    by_port = [
        c
        for c in candidates
        if any(_port(t.get("__address__", "")) == BACKEND_PORT for t in _targets(c))
    ]
    if len(by_port) == 1:
        return by_port[0], f"discovered: the one scrape job targeting port {BACKEND_PORT}"
    if len(candidates) == 1:
        return candidates[0], "discovered: the only scrape job that remote-writes"
    raise ConfigurationError(
        "the Alloy config has several prometheus.scrape components that remote-write ("
        + ", ".join(c.id for c in candidates)
        + f") and none is told apart as the backend's (job {job!r} or port {BACKEND_PORT}): "
        "name it in the contract's `scrape.component`."
    )


def discover(
    components: Iterable[AlloyComponent],
    *,
    scrape_component: str = "",
    remote_write_component: str = "",
    job: str = "scanium-backend",
    in_test_stack: bool = True,
    otlp_receiver: str | None = None,
    config: Path | None = None,
) -> PipelineComponents:
    """Pick the backend's scrape component and the remote_write it forwards to, and (given
    `otlp_receiver`, the contract's: the backend pushes OTLP too) the OTLP receiver it
    exports to and that road's components (`otlp_route.discover_otlp`).

    The contract may name either one (used when the config has it); otherwise the scrape
    component is the one whose job is the contract's, else the one targeting the backend's
    port, else the only one that remote-writes. Raises ConfigurationError naming what is
    missing or ambiguous. `in_test_stack`: the config is to run against the test stack,
    whose fixed ports and plain HTTP it must match (not so for a deployment's own Alloy).
    """
    by_id = {component.id: component for component in components}
    scrapes = [c for c in by_id.values() if c.kind == SCRAPE]
    writing = [c for c in scrapes if reachable_writers(c, by_id)[0]]
    if not writing:
        names = ", ".join(c.id for c in scrapes) or "none"
        raise ConfigurationError(
            "the Alloy config has no prometheus.scrape component that forwards to a "
            f"prometheus.remote_write (scrape components: {names}), so nothing of it reaches "
            "a store the suite can query."
        )
    chosen, because = _choose_scrape(writing, scrape_component, job)
    targets = _targets(chosen)
    if not targets or not targets[0].get("__address__"):
        raise ConfigurationError(
            f"{chosen.id} has no static target (its targets come from "
            + (", ".join(r for r in chosen.references_to if r.startswith("discovery.")) or "none")
            + "), so the stack cannot answer its host name: give it a target `host:port`."
        )
    target = next(
        (t for t in targets if _port(t.get("__address__", "")) == BACKEND_PORT), targets[0]
    )
    writers, path = reachable_writers(chosen, by_id)
    writer = remote_write_component if remote_write_component in writers else writers[0]
    url = writer_url(by_id[writer])
    verified = {chosen.id, writer, *path}
    found = PipelineComponents(
        scrape=chosen.id,
        job=_job_of(chosen, target),
        target=target["__address__"],
        metrics_path=str(chosen.arguments.get("metrics_path") or "/metrics"),
        remote_write=writer,
        remote_write_url=url,
        scrape_interval_s=seconds_of(chosen.arguments.get("scrape_interval"), 60.0),
        not_in_stack=tuple(sorted(set(by_id) - verified)),
        chosen_because=because,
    )
    if otlp_receiver is not None:
        # Imported here: the OTLP road's module builds on this one.
        from scanium_e2e.stack.otlp_route import discover_otlp

        found = found.with_otlp(
            *discover_otlp(by_id.values(), receiver=otlp_receiver, config=config)
        )
    if in_test_stack:
        _check_reachable(found, str(chosen.arguments.get("scheme") or "http"))
    return found


def _check_reachable(found: PipelineComponents, scheme: str) -> None:
    """The stack serves plain HTTP on fixed ports: say what in the config cannot match."""
    problems = []
    if scheme != "http" or _port(found.target) != BACKEND_PORT:
        problems.append(
            f"{found.scrape} scrapes {scheme}://{found.target}, but a backend in this stack "
            f"answers plain HTTP on port {BACKEND_PORT}"
        )
    writers = {found.remote_write: found.remote_write_url}
    if found.otlp is not None:
        writers[found.otlp.remote_write] = found.otlp.remote_write_url
        if found.otlp.span_remote_write:
            writers[found.otlp.span_remote_write] = found.otlp.span_remote_write_url
    for writer, address in writers.items():
        url = urlsplit(address)
        if url.scheme != "http" or url.port != STORE_PORT or url.path != STORE_PUSH_PATH:
            problems.append(
                f"{writer} writes to {address or '(no url)'}, but the stack's store answers "
                f"http://<host>:{STORE_PORT}{STORE_PUSH_PATH}"
            )
    for host in (found.backend_host, *found.store_hosts):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            continue
        problems.append(f"{host} is an IP address; the stack can only answer host names")
    if problems:
        raise ConfigurationError(
            "the Alloy config cannot run against the test stack unchanged: "
            + "; ".join(problems)
            + "."
        )


def network_aliases(found: PipelineComponents) -> dict[str, list[str]]:
    """The host names each service must answer, our defaults included."""
    wanted = {"backend": (found.backend_host,), "store": found.store_hosts}
    return {
        service: sorted({*DEFAULT_ALIASES[service], *hosts} - {""})
        for service, hosts in wanted.items()
    }


def write_alias_override(found: PipelineComponents, folder: Path) -> Path:
    """A compose override file giving the services the config's host names (JSON is YAML)."""
    services = {
        service: {"networks": {"default": {"aliases": aliases}}}
        for service, aliases in network_aliases(found).items()
    }
    path = folder / "alloy-aliases.compose.yml"
    path.write_text(json.dumps({"services": services}, indent=2) + "\n", encoding="utf-8")
    return path


# Relabel actions whose `target_label` names a label they create (labelmap's names come
# from its replacement pattern, which cannot be known before the data flows).
_CREATING_ACTIONS = {"replace", "hashmod", "lowercase", "uppercase"}
# The labels every scrape adds, whatever the config.
SCRAPE_LABELS = ("job", "instance")


def pipeline_labels(
    components: Iterable[AlloyComponent], scrape: str, remote_write: str
) -> tuple[str, ...]:
    """The label names the pipeline adds to every series it scrapes from the backend.

    Derived from the config as Alloy evaluated it, not assumed: `job` and `instance`, the
    scrape targets' own labels (`"instance" = ...`, `"service" = ...`), the target labels
    of the relabel rules between the scrape and its remote_write, and the remote_write's
    external labels. A backend series carrying any other label beyond its contract's has it
    from the backend.
    """
    by_id = {component.id: component for component in components}
    added = set(SCRAPE_LABELS)
    chosen = by_id.get(scrape)
    if chosen is not None:
        for target in _targets(chosen):
            added.update(name for name in target if not name.startswith("__"))
        _, path = reachable_writers(chosen, by_id)
        for component_id in path:
            for rule in by_id[component_id].arguments.get("rule") or []:
                action = str(rule.get("action") or "replace").lower()
                label = str(rule.get("target_label") or "")
                if action in _CREATING_ACTIONS and label and "$" not in label:
                    added.add(label)
    writer = by_id.get(remote_write)
    if writer is not None:
        external = writer.arguments.get("external_labels") or {}
        if isinstance(external, Mapping):
            added.update(str(name) for name in external)
    return tuple(sorted(added))
