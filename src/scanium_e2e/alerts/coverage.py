"""Alert coverage: which rules notice each class of failure, told apart from health.

The mutation harness breaks the pipeline in every way it knows (e2e/mutation_catalog.py),
each variant of a failure class (contract.FAILURE_CLASSES). After the suite ran against a
variant's stack, every rule is evaluated on it read-only (alerts/session.judge_on_variant);
the session's healthy stack is evaluated the same way. A rule **notices** a variant when its
condition holds (pending or firing) on the variant's stack and not on the healthy one; a
rule that holds on both is **noise** for that class, never coverage.

The contract's `alerts.pages` says which classes must page (some rule notices every variant
of the class) and why the others need not. A must-page class that a variant leaves
unnoticed fails with a sentence naming the variants, the noise, and an expression that would
have noticed them; a class that is neither is a failure of the contract.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from scanium_e2e.alerts.judge import ScenarioVerdict
from scanium_e2e.alerts.model import RuleKind
from scanium_e2e.contract import FAILURE_CLASSES, AlertExpectations, Contract
from scanium_e2e.findings import Finding, Kind


@dataclass(frozen=True)
class VariantRules:
    """One variant of a class and the rules' verdict on its stack (None: not judged)."""

    variant: str
    failure_class: str
    verdict: ScenarioVerdict | None
    why_not: str = ""


@dataclass
class ClassCoverage:
    """One failure class: its variants, the rules that notice each, the noise."""

    name: str
    must_page: bool
    reason: str
    # variant -> the alerting rules that hold on it and not on the healthy stack
    noticed_by: dict[str, list[str]] = field(default_factory=dict)
    # alerting rules that hold on a variant of the class and on the healthy stack too
    noise: list[str] = field(default_factory=list)
    # variant -> why it was not judged (its stack could not be read)
    unjudged: dict[str, str] = field(default_factory=dict)
    # noticing rule -> the receivers its alert reaches (with an Alertmanager config)
    routes: dict[str, str] = field(default_factory=dict)
    suggestion: str = ""

    @property
    def unnoticed(self) -> list[str]:
        """The judged variants no rule tells apart from health."""
        return [name for name, rules in self.noticed_by.items() if not rules]

    @property
    def rules(self) -> list[str]:
        """Every rule that notices some variant of the class, in first-seen order."""
        return list(dict.fromkeys(rule for rules in self.noticed_by.values() for rule in rules))

    @property
    def status(self) -> str:
        """`pages`, `unnoticed`, `need not page`, `not judged`, or `no reason given`."""
        if not self.noticed_by:
            return "not judged"
        if not self.unnoticed:
            return "pages"
        if self.must_page:
            return "unnoticed"
        return "need not page" if self.reason else "no reason given"

    def finding(self) -> Finding | None:
        """Why the class fails the contract, or None."""
        if self.status == "unnoticed":
            noise = (
                f" ({', '.join(f'`{rule}`' for rule in self.noise)} "
                f"{'holds' if len(self.noise) == 1 else 'hold'} on them and on the healthy "
                "stack alike: noise, not coverage)"
                if self.noise
                else ""
            )
            return Finding(
                Kind.CLASS_UNNOTICED,
                subject=self.name,
                seen=f"{', '.join(self.unnoticed)} apart from health{noise}",
                expected=self.suggestion,
                detail=f" ({FAILURE_CLASSES[self.name]})",
            )
        if self.status == "no reason given":
            return Finding(
                Kind.CLASS_WITHOUT_REASON,
                subject=self.name,
                seen=", ".join(self.unnoticed),
                detail=f" ({FAILURE_CLASSES[self.name]})",
            )
        return None

    def as_dict(self) -> dict[str, object]:
        """The class's coverage as JSON data."""
        return {
            "class": self.name,
            "description": FAILURE_CLASSES[self.name],
            "must_page": self.must_page,
            "reason": self.reason,
            "status": self.status,
            "noticed_by": dict(self.noticed_by),
            "noise": list(self.noise),
            "unjudged": dict(self.unjudged),
            "routes": dict(self.routes),
            "suggestion": self.suggestion,
        }


# Variants a table row names; the rest are counted (the JSON has them all).
_SHOWN_VARIANTS = 3


def holding(verdict: ScenarioVerdict) -> list[str]:
    """The alerting rules whose condition holds in `verdict`, in rule order."""
    return list(
        dict.fromkeys(
            s.rule.name for s in verdict.states if s.rule.kind is RuleKind.ALERTING and s.noticed
        )
    )


def suggestion(name: str, contract: Contract) -> str:
    """An expression that notices the class on a pipeline shaped like the contract's, and
    holds on no healthy one (an idle backend included)."""
    job = contract.scrape.job
    up = f'up{{job="{job}"}}'
    serving = _serving_chat(contract)
    if name == "scrape":
        return f"{up} == 0 or absent({up})"
    if name in ("remote-write", "store-rejects"):
        return f"absent_over_time({up}[5m])"
    if name == "dashboard-empty":
        counted = (contract.requests.name, contract.tokens.name + "_count")
        written = " and on () ".join(f'count({metric}{{job="{job}"}}) > 0' for metric in counted)
        if serving:
            return f"({serving}) unless on () ({written})"
        return " or ".join(f'absent_over_time({metric}{{job="{job}"}}[10m])' for metric in counted)
    family = contract.otlp.families.get("requests") if contract.otlp is not None else None
    if name == "otlp-road" and contract.otlp is not None and family is not None:
        calls = family.name
        pushed = f'count({calls}{{job="{contract.otlp.job}"}}) > 0'
        if serving:
            return f"({serving}) unless on () ({pushed})"
        return f'absent_over_time({calls}{{job="{contract.otlp.job}"}}[10m])'
    return ""


def _serving_chat(contract: Contract) -> str:
    """`sum(increase(<HTTP requests>{job, route=<chat>, status 200}[10m])) > 0`: the backend
    answers chat (read from its HTTP metrics, "" without them), so missing series are a
    defect, not an idle backend."""
    http = contract.http
    family = contract.families.get("http_requests")
    if http is None or family is None:
        return ""
    selector = (
        f'{family.name}{{job="{contract.scrape.job}", route="{http.chat.route}", '
        'status_code="200"}'
    )
    return f"sum(increase({selector}[10m])) > 0"


def coverage(
    healthy: ScenarioVerdict,
    variants: Sequence[VariantRules],
    expectations: AlertExpectations,
    contract: Contract,
    *,
    routes: Mapping[str, str] | None = None,
) -> list[ClassCoverage]:
    """Every class the variants belong to, in FAILURE_CLASSES order: which rules notice
    each variant (holding on it and not on `healthy`), the noise, and (with `routes`, each
    alerting rule's route through the user's Alertmanager config) where the noticing
    rules' alerts go."""
    healthy_holding = set(holding(healthy))
    found: dict[str, ClassCoverage] = {}
    for judged in variants:
        name = judged.failure_class
        covered = found.get(name)
        if covered is None:
            covered = found[name] = ClassCoverage(
                name,
                must_page=name in expectations.must_page,
                reason=expectations.need_not_page.get(name, ""),
                suggestion=suggestion(name, contract),
            )
        if judged.verdict is None:
            covered.unjudged[judged.variant] = judged.why_not or "not judged"
            continue
        held = holding(judged.verdict)
        covered.noticed_by[judged.variant] = [rule for rule in held if rule not in healthy_holding]
        covered.noise.extend(r for r in held if r in healthy_holding and r not in covered.noise)
    if routes:
        for covered in found.values():
            covered.routes = {rule: routes.get(rule, "not routed") for rule in covered.rules}
    return [found[name] for name in FAILURE_CLASSES if name in found]


def table(classes: Sequence[ClassCoverage], *, routed: bool = False) -> str:
    """The class x rule table: one row per class, its noticing rules, noise and verdict."""
    header = ["class", "must page", "variants", "noticed by", "noise", "verdict"]
    if routed:
        header.insert(5, "route")
    rows = [header]
    for covered in classes:
        variants = [*covered.noticed_by, *covered.unjudged]
        shown = variants[:_SHOWN_VARIANTS]
        more = f" (+{len(variants) - len(shown)} more)" if len(variants) > len(shown) else ""
        row = [
            covered.name,
            "yes" if covered.must_page else "no",
            ", ".join(shown) + more,
            ", ".join(covered.rules) or "-",
            ", ".join(covered.noise) or "-",
            covered.status
            + (f" ({', '.join(covered.unnoticed)})" if covered.status == "unnoticed" else ""),
        ]
        if routed:
            row.insert(
                5,
                "; ".join(f"{rule} -> {receivers}" for rule, receivers in covered.routes.items())
                or "-",
            )
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)
