"""A closed world of labels: every series the backend exposes is accounted for.

- *Exact label sets*: each series of a family the contract names carries exactly the
  contract's labels (plus its optional ones), and in the store also the labels the
  pipeline adds (`job`, `instance`, the targets' own labels, relabel rules, external
  labels: derived from the Alloy config as Alloy evaluated it). An extra label is named with
  a masked example value and how many series carry it: `sum by (...)` hides it from the
  count checks, so only this check can see `client="sk-e2e-0"`.
- *Vocabulary*, judged per label over every family that carries it: each value comes from
  the contract's `vocabulary` (listed values or a pattern); `provider` must also be the
  ledger's (in a stack of our own). A label without an entry, on a contract family or on the
  backend's other series, follows the default policy: no free text, no long value, no URL
  with a query string.
  (Secret shapes, e-mail addresses and fragments of run secrets belong to the leak scans,
  `checks/leaks.py`, which read every label too.)

Both judge two sources at once, the backend's `/metrics` (hop 1) and the store (the
pipeline's end): a defect the backend makes shows in both and is named once, at hop 1; one
only the store shows was made on the way (hop 2, the scrape and its relabel rules).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Final

from scanium_e2e.checks import leaks
from scanium_e2e.checks.counts import wait_until_settled
from scanium_e2e.checks.deviations import never_created
from scanium_e2e.checks.settlement import CountSettlement
from scanium_e2e.checks.waits import fail_with_diagnosis
from scanium_e2e.clients.query import utc_now
from scanium_e2e.contract import Contract, MetricSpec
from scanium_e2e.errors import CheckFailed, EndpointError
from scanium_e2e.findings import Finding, Kind
from scanium_e2e.metrics_text import TextSample, parse_samples
from scanium_e2e.pipeline import Pipeline
from scanium_e2e.polling import TransientError
from scanium_e2e.secrets import MASK, Masker
from scanium_e2e.stack.alloy_config import AlloyComponent, live_components, pipeline_labels

# The default policy's bounds: a label value is an identifier, not text.
MAX_LABEL_VALUE: Final = 64
_QUERY_STRING: Final = re.compile(r"\?[^\s=&?#]*=")
_WHITESPACE: Final = re.compile(r"\s")
# A query parameter's value, masked when a flagged value is shown.
_QUERY_VALUE: Final = re.compile(r"([?&][^=&\s]+=)[^&\s#]*")
# The vocabulary test's id for every label without a vocabulary entry (default policy).
UNLISTED: Final = "unlisted"


@dataclass(frozen=True)
class Exposure:
    """Every series one source shows: each a label map with `__name__`.

    `hop`: 1 for the backend's /metrics, 5 for the store. `added`: the label names the
    pipeline adds on the way to this source (none on /metrics).
    """

    source: str
    hop: int
    series: tuple[Mapping[str, str], ...]
    added: frozenset[str] = frozenset()


def family_of(name: str, families: Mapping[str, MetricSpec]) -> str | None:
    """The role whose family a series name belongs to (`_bucket` of a histogram...)."""
    for role, spec in families.items():
        if name in spec.series_names:
            return role
    return None


def masked_value(value: str, masker: Masker) -> str:
    """A label value as a failure may show it: known secrets, secret shapes and query
    values masked, cut to 48 characters (it may hold anything a user typed)."""
    # The masking policy, and every query value besides: a label is no place for one.
    shown = _QUERY_VALUE.sub(r"\1" + MASK, masker.mask(value))
    if len(shown) > 48:
        shown = shown[:45] + "..."
    return shown


def policy_breach(value: str) -> str | None:
    """Why a label value breaks the default policy, or None: labels are identifiers, and a
    value that reads like text or a URL is unbounded and may carry what a user typed."""
    if _WHITESPACE.search(value):
        return "free text (it holds whitespace)"
    if _QUERY_STRING.search(value):
        return "a URL with a query string"
    if len(value) > MAX_LABEL_VALUE:
        return f"a long value ({len(value)} characters, at most {MAX_LABEL_VALUE})"
    return None


@dataclass
class _Tally:
    """Series of one (label, problem) across sources, and the first value seen."""

    per_source: dict[str, int] = field(default_factory=dict)
    example: str = ""
    hop: int = 5

    def count(self, source: str, hop: int, value: str) -> None:
        self.per_source[source] = self.per_source.get(source, 0) + 1
        self.example = self.example or value
        self.hop = min(self.hop, hop)

    def where(self) -> str:
        """`4 series in /metrics and 4 in Cortex`."""
        parts = [f"{n} series in {source}" for source, n in self.per_source.items()]
        return " and ".join(parts)


def _own_labels(
    labels: Mapping[str, str], spec: MetricSpec, added: frozenset[str]
) -> dict[str, str]:
    """A series' labels less its name, the format's own label (`le`) and the pipeline's
    (a label the family declares stays its own even when the pipeline also adds one of that
    name: the span metrics' `service_name` beside a remote write's external label)."""
    own = spec.own_label(labels.get("__name__", ""))
    declared = {*spec.labels, *spec.optional_labels}
    return {
        name: value
        for name, value in labels.items()
        if name != "__name__" and name != own and (name not in added or name in declared)
    }


def label_set_findings(
    role: str, contract: Contract, exposures: Sequence[Exposure], masker: Masker
) -> list[Finding]:
    """Every label a series of `role`'s family has beyond its contract's, and every
    required label it lacks, per label, over all sources."""
    spec = contract.families[role]
    allowed = set(spec.labels) | set(spec.optional_labels)
    extra: dict[str, _Tally] = {}
    missing: dict[str, _Tally] = {}
    shapes: dict[str, set[str]] = {}
    for exposure in exposures:
        for labels in exposure.series:
            if labels.get("__name__") not in spec.series_names:
                continue
            own = _own_labels(labels, spec, exposure.added)
            for name in sorted(set(own) - allowed):
                extra.setdefault(name, _Tally()).count(exposure.source, exposure.hop, own[name])
            for name in spec.labels:
                if name not in own:
                    tally = missing.setdefault(name, _Tally())
                    tally.count(exposure.source, exposure.hop, "")
                    shapes.setdefault(name, set()).update(own)
    findings: list[Finding] = []
    for name, tally in extra.items():
        breach = policy_breach(tally.example)
        findings.append(
            Finding(
                Kind.LABEL_UNEXPECTED,
                subject=spec.name,
                expected=name,
                seen=tally.where(),
                detail=f'e.g. {name}="{masked_value(tally.example, masker)}"'
                + (f", {breach}" if breach else ""),
                hop=_hop(tally),
            )
        )
    for name, tally in missing.items():
        findings.append(
            Finding(
                Kind.LABEL_MISSING,
                subject=f"`{spec.name}` ({tally.where()})",
                expected=name,
                seen=", ".join(sorted(shapes[name])) or "none",
                hop=_hop(tally),
            )
        )
    return findings


def _hop(tally: _Tally) -> int:
    """1 when the backend's /metrics shows it (the backend made it), else 2: the series
    left the backend right and changed between the scrape and the store."""
    return 1 if tally.hop == 1 else 2


def judged_labels(
    labels: Mapping[str, str], exposure: Exposure, families: Mapping[str, MetricSpec]
) -> dict[str, str]:
    """The labels of one backend series whose values the vocabulary test judges: a contract
    family's declared labels (an undeclared one is the label-set test's), and every label
    of a series outside the families; never the pipeline's or the format's own."""
    name = labels.get("__name__", "")
    role = family_of(name, families)
    if role is None:
        return {
            label: value
            for label, value in labels.items()
            if label not in ("__name__", "le", "quantile") and label not in exposure.added
        }
    spec = families[role]
    declared = {*spec.labels, *spec.optional_labels}
    return {
        label: value
        for label, value in _own_labels(labels, spec, exposure.added).items()
        if label in declared
    }


def value_findings(
    label: str,
    contract: Contract,
    exposures: Sequence[Exposure],
    masker: Masker,
    *,
    justified: Iterable[str] | None = None,
) -> tuple[list[Finding], int]:
    """Every value of `label` on the backend's series outside its vocabulary, or (given
    `justified`, the values the run's traffic can produce) one the ledger does not explain;
    and how many series were judged (0: nothing was)."""
    rule = contract.vocabulary[label]
    allowed = set(justified) if justified is not None else None

    def problem(value: str) -> tuple[Kind, str] | None:
        if not rule.allows(value):
            return (Kind.VALUE_OUTSIDE_VOCABULARY, rule.describe())
        if allowed is not None and value not in allowed:
            return (Kind.VALUE_UNJUSTIFIED, ", ".join(sorted(allowed)))
        return None

    return _judge_values(exposures, contract, masker, lambda name: name == label, problem)


def unlisted_findings(
    contract: Contract, exposures: Sequence[Exposure], masker: Masker
) -> tuple[list[Finding], int]:
    """Every judged label without a vocabulary entry follows the default policy."""

    def problem(value: str) -> tuple[Kind, str] | None:
        breach = policy_breach(value)
        return None if breach is None else (Kind.VALUE_AGAINST_POLICY, breach)

    unlisted = contract.vocabulary.__contains__
    return _judge_values(exposures, contract, masker, lambda name: not unlisted(name), problem)


def _judge_values(
    exposures: Sequence[Exposure],
    contract: Contract,
    masker: Masker,
    applies: Callable[[str], bool],
    problem: Callable[[str], tuple[Kind, str] | None],
) -> tuple[list[Finding], int]:
    """Judge the value of every label `applies` to on every backend series; returns the
    findings (one per kind, metric, label and rule, with a count) and how many values were
    judged."""
    tallies: dict[tuple[Kind, str, str, str], _Tally] = {}
    judged = 0
    for exposure in exposures:
        for labels in exposure.series:
            name = labels.get("__name__", "")
            for label, value in sorted(judged_labels(labels, exposure, contract.families).items()):
                if not applies(label):
                    continue
                judged += 1
                found = problem(value)
                if found is None:
                    continue
                role = family_of(name, contract.families)
                about = contract.families[role].name if role is not None else name
                key = (found[0], about, label, found[1])
                tallies.setdefault(key, _Tally()).count(exposure.source, exposure.hop, value)
    findings = [
        Finding(
            kind,
            subject=about,
            expected=label,
            seen=f'"{masked_value(tally.example, masker)}"',
            detail=f"{rule_text}; {tally.where()}",
            hop=_hop(tally),
        )
        for (kind, about, label, rule_text), tally in tallies.items()
    ]
    return findings, judged


def alloy_components(pipeline: Pipeline, road: str) -> list[AlloyComponent]:
    """Alloy's components, to learn which labels `road` adds; CheckFailed when Alloy's
    component API cannot be read."""
    try:
        return live_components(pipeline.alloy)
    except (EndpointError, TransientError) as exc:
        raise CheckFailed(
            f"cannot read Alloy's component API to learn which labels {road} adds: {exc}"
        ) from None


def run_exposures(pipeline: Pipeline, settlement: CountSettlement) -> list[Exposure]:
    """The backend's /metrics and this run's series in the store, once the traffic is
    counted; the store's with the labels the pipeline adds, read from Alloy's config."""
    wait_until_settled(pipeline, settlement, "requests")
    response = pipeline.backend_metrics()
    if response.status_code != 200:
        raise fail_with_diagnosis(pipeline, f"backend /metrics answered {response.status_code}")
    exposed = tuple(
        {"__name__": sample.name, **sample.labels} for sample in parse_samples(response.text)
    )
    # The store also holds what was never the backend's: the scrape's own `up` and
    # `scrape_*`, and the ruler's recordings and ALERTS. Only the backend's names are judged.
    names = {labels["__name__"] for labels in exposed}
    stored = [
        labels
        for labels in leaks.series_of_run(
            pipeline.store, pipeline.scope(), pipeline.started_at, utc_now()
        )
        if labels.get("__name__") in names
    ]
    if not stored:
        raise fail_with_diagnosis(pipeline, f"no series of this run in {pipeline.store_name}")
    scrape = pipeline.contract.scrape
    components = alloy_components(pipeline, "the pipeline")
    added = pipeline_labels(components, scrape.component, scrape.remote_write_component)
    return [
        Exposure("/metrics", 1, exposed),
        Exposure(pipeline.store_name, 5, tuple(stored), frozenset(added)),
    ]


def unjudgeable(role: str, pipeline: Pipeline, exposures: Sequence[Exposure]) -> Finding | None:
    """Why `role`'s family cannot be judged (no series of it anywhere), or None.

    The backend never created it while its siblings are there (the count checks name the
    same); or nothing at all: the family is in no source.
    """
    spec = pipeline.contract.families[role]
    if any(
        labels.get("__name__") in spec.series_names
        for exposure in exposures
        for labels in exposure.series
    ):
        return None
    samples = [
        TextSample(labels["__name__"], dict(labels), 0.0)
        for labels in exposures[0].series
        if "__name__" in labels
    ]
    missing = never_created(spec.name, samples, pipeline.contract, "/metrics")
    if missing is not None:
        return missing
    return Finding(
        Kind.COULD_NOT_CHECK,
        subject=spec.name,
        detail="no series of it in /metrics or the store: its labels cannot be judged",
        hop=1,
    )


def nothing_judged(label: str, contract: Contract, where: str = "/metrics or the store") -> Finding:
    """The finding of a vocabulary test that found no value of its label anywhere (in
    `where`): it depends on the families that declare the label, none of which has a series."""
    carriers = [
        f"`{spec.name}`"
        for spec in contract.families.values()
        if label in (*spec.labels, *spec.optional_labels)
    ]
    return Finding(
        Kind.DEPENDS_ON,
        subject=", ".join(carriers) or f"a family with label `{label}`",
        detail=f"{'have' if len(carriers) > 1 else 'has'} no series carrying `{label}` in "
        f"{where}: no value of it could be judged",
    )


def fail_on_findings(what: str, findings: Sequence[Finding]) -> None:
    """Raise CheckFailed naming every finding (each already masked), or return."""
    if not findings:
        return
    lines = "\n".join(f"  {finding.render()}" for finding in findings[1:])
    message = findings[0].render() + (f"\n{what}, also:\n{lines}" if lines else "")
    raise CheckFailed(message, tuple(findings))


def label_defects(
    pipeline: Pipeline, settlement: CountSettlement, role: str, labels: Sequence[str]
) -> list[Finding]:
    """What the closed world finds wrong with `labels` of `role`'s family: a label missing
    or extra on its series, or values outside its vocabulary (the labels' own tests name
    the same findings)."""
    try:
        exposures = run_exposures(pipeline, settlement)
    except CheckFailed:
        return []
    contract = pipeline.contract
    found = [
        finding
        for finding in label_set_findings(role, contract, exposures, pipeline.masker)
        if finding.expected in labels
    ]
    for label in labels:
        if label in contract.vocabulary:
            values, _ = value_findings(label, contract, exposures, pipeline.masker)
            name = contract.families[role].name
            found.extend(finding for finding in values if finding.subject == name)
    return found


@contextmanager
def depending_on_labels(
    pipeline: Pipeline, settlement: CountSettlement, role: str, labels: Sequence[str]
) -> Iterator[None]:
    """Run a check that groups `role`'s family by `labels`; when it fails and the closed
    world finds one of those labels defective, the failure says it depends on that defect
    first (one defect, named once as the cause; this check is its consequence)."""
    try:
        yield
    except CheckFailed as failed:
        defects = label_defects(pipeline, settlement, role, labels)
        if not defects:
            raise
        cause = defects[0]
        spec = pipeline.contract.families[role]
        dependency = Finding(
            Kind.DEPENDS_ON,
            subject=f"the {', '.join(f'`{label}`' for label in labels)} labels of `{spec.name}`",
            detail=f"the label tests name: {cause.render()}",
            causes=(cause,),
        )
        raise CheckFailed(
            pipeline.masker.mask(f"{dependency.render()}.\n{failed}"),
            (dependency, *failed.findings),
        ) from None
