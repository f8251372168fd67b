"""Alert coverage (alerts/coverage.py): a rule notices a failure class only if it holds on
the class's variants and not on the healthy stack; the contract says which classes must
page and why the others need not."""

from __future__ import annotations

from pathlib import Path

from scanium_e2e.alerts.coverage import VariantRules, coverage, suggestion, table
from scanium_e2e.alerts.judge import ScenarioVerdict
from scanium_e2e.alerts.loading import load_rules
from scanium_e2e.alerts.model import RuleState, State
from scanium_e2e.contract import AlertExpectations, load_contract
from scanium_e2e.findings import Kind
from scanium_e2e.settings import REPO_ROOT

CONTRACT = load_contract(REPO_ROOT / "fixtures" / "contract.json")
NAMES = ("ScrapeDown", "AlloyDown", "ErrorRate")


def verdict(tmp_path: Path, name: str, holding: set[str]) -> ScenarioVerdict:
    """Every rule of NAMES, pending when it is in `holding`, else inactive."""
    text = "groups:\n  - name: g\n    rules:\n" + "".join(
        f"      - alert: {rule}\n        expr: up == 0\n" for rule in NAMES
    )
    path = tmp_path / f"{name}.yml"
    path.write_text(text, encoding="utf-8")
    states = [
        RuleState(ref, State.PENDING if ref.name in holding else State.INACTIVE)
        for ref in load_rules([path]).rules
    ]
    return ScenarioVerdict(name, states)


def test_a_class_is_noticed_only_by_rules_that_do_not_hold_on_health(tmp_path: Path) -> None:
    healthy = verdict(tmp_path, "healthy", {"AlloyDown", "ErrorRate"})
    variants = [
        VariantRules(
            "seed-bug", "scrape", verdict(tmp_path, "seed-bug", {"ScrapeDown", "AlloyDown"})
        ),
        VariantRules("slow-metrics", "scrape", verdict(tmp_path, "slow", {"AlloyDown"})),
        VariantRules("cache-hit-inverted", "accounting", verdict(tmp_path, "inv", {"ErrorRate"})),
        VariantRules("store-rejects", "store-rejects", None, "its stack could not be read"),
    ]
    classes = {c.name: c for c in coverage(healthy, variants, CONTRACT.alerts, CONTRACT)}
    scrape = classes["scrape"]
    assert scrape.noticed_by == {"seed-bug": ["ScrapeDown"], "slow-metrics": []}
    assert scrape.noise == ["AlloyDown"] and scrape.status == "unnoticed"
    finding = scrape.finding()
    assert finding is not None and finding.kind is Kind.CLASS_UNNOTICED
    assert finding.render() == (
        "failure class `scrape` (the backend's scrape fails or is lost: /metrics refused or too "
        "slow, the scrape under another job) must page, but no alert rule tells slow-metrics "
        "apart from health (`AlloyDown` holds on them and on the healthy stack alike: noise, not "
        'coverage); a rule on `up{job="scanium-backend"} == 0 or absent(up{job="scanium-backend"})'
        "` would notice it"
    )
    # A class the contract says need not page passes with its reason; one not judged says so.
    assert (
        classes["accounting"].status == "need not page" and classes["accounting"].finding() is None
    )
    assert classes["store-rejects"].status == "not judged"
    assert classes["store-rejects"].unjudged == {"store-rejects": "its stack could not be read"}


def test_a_class_neither_paging_nor_excused_fails_the_contract(tmp_path: Path) -> None:
    healthy = verdict(tmp_path, "healthy", set())
    leak = [VariantRules("secret-in-log", "leak", verdict(tmp_path, "leak", set()))]
    bare = AlertExpectations(must_page=("scrape",))
    (covered,) = coverage(healthy, leak, bare, CONTRACT)
    finding = covered.finding()
    assert finding is not None and finding.kind is Kind.CLASS_WITHOUT_REASON
    assert "and the contract gives no reason why it need not" in finding.render()


def test_routes_and_the_table(tmp_path: Path) -> None:
    healthy = verdict(tmp_path, "healthy", set())
    seed = [VariantRules("seed-bug", "scrape", verdict(tmp_path, "seed", {"ScrapeDown"}))]
    classes = coverage(
        healthy,
        seed,
        CONTRACT.alerts,
        CONTRACT,
        routes={"ScrapeDown": "pager for ScrapeDown (pages)", "AlloyDown": "ticket (pages no one)"},
    )
    assert classes[0].status == "pages" and classes[0].routes == {
        "ScrapeDown": "pager for ScrapeDown (pages)"
    }
    lines = table(classes, routed=True).splitlines()
    header = [cell.strip() for cell in lines[0].split("|")[1:-1]]
    assert header == ["class", "must page", "variants", "noticed by", "noise", "route", "verdict"]
    cells = [cell.strip() for cell in lines[2].split("|")[1:-1]]
    assert cells == [
        "scrape", "yes", "seed-bug", "ScrapeDown", "-",
        "ScrapeDown -> pager for ScrapeDown (pages)", "pages",
    ]  # fmt: skip


def test_each_must_page_class_has_an_expression_to_propose() -> None:
    for name in CONTRACT.alerts.must_page:
        assert suggestion(name, CONTRACT), name
