"""What the alert rules must do (`alerts`): the rules that must fire, those allowed to fire
on a healthy pipeline, and which failure classes must page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Final

from pydantic import AfterValidator, ValidationInfo, model_validator

from scanium_e2e.contract.fields import FromFile, Names, Reason, Section
from scanium_e2e.contract.problems import keys_among, problem, says

ALERT_SCENARIOS: Final[tuple[str, ...]] = ("healthy", "incident")
# The classes of failure the mutation harness produces, each a kind of broken pipeline an
# alert rule may notice (alerts/coverage.py judges which rules tell each apart from health).
FAILURE_CLASSES: Final[Mapping[str, str]] = {
    "scrape": "the backend's scrape fails or is lost: /metrics refused or too slow, the "
    "scrape under another job",
    "remote-write": "Alloy's remote write to the store fails",
    "store-rejects": "the store refuses the pipeline's samples",
    "dashboard-empty": "a metric the dashboards query is never written: its panels show No data",
    "otlp-road": "nothing the backend pushes over OTLP reaches the store",
    "accounting": "the metrics flow but count, label or bucket wrong",
    "leak": "a secret or an unbounded value in labels, /metrics or logs",
    "http-policy": "the backend's HTTP policy differs from the contract: HTTPS, "
    "authentication, validation, probes",
    "dashboard-query": "a dashboard's query is wrong while its data is there",
}
# Without a `pages` section: the seed incident's kind and the hops after it must page.
DEFAULT_MUST_PAGE: Final[tuple[str, ...]] = (
    "scrape",
    "remote-write",
    "store-rejects",
    "dashboard-empty",
)


def _among_classes(value: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [name for name in value if name not in FAILURE_CLASSES]
    if unknown:
        raise problem(
            f"names {unknown[0]!r}, no failure class; use " + ", ".join(FAILURE_CLASSES) + "."
        )
    return value


class Pages(Section):
    """The failure classes (FAILURE_CLASSES) some rule must notice, and those that need not
    page, each with why: every class is one or the other (alerts/coverage.py)."""

    must: Annotated[Names, AfterValidator(_among_classes)] = DEFAULT_MUST_PAGE
    need_not: Annotated[
        Mapping[str, Reason],
        says("maps failure classes to a non-empty reason."),
        keys_among(FAILURE_CLASSES),
    ] = {}

    @model_validator(mode="after")
    def _one_or_the_other(self) -> Pages:
        both = sorted(set(self.must) & set(self.need_not))
        if both:
            raise problem(f"lists {both[0]!r} in both `must` and `need_not`: choose one.")
        return self


class AlertExpectations(Section):
    """What the alert rules must do (alerts/): the rules that must fire on a scenario
    (`healthy`, `incident`), and the ones allowed to fire on a healthy pipeline, each with
    its reason (reported as "accepted by contract", never silently)."""

    must_fire: Annotated[Mapping[str, Names], keys_among(ALERT_SCENARIOS)] = {}
    allowed_on_healthy: Annotated[
        Mapping[str, Reason], says("maps rule names to a non-empty reason.")
    ] = {}
    pages: Pages = Pages()

    if TYPE_CHECKING:
        # The constructor as code calls it, with the pages flat (`_flat_pages`); a custom
        # __init__ at run time would be handed the file's keys too.
        def __init__(
            self,
            *,
            must_fire: Mapping[str, tuple[str, ...]] = ...,
            allowed_on_healthy: Mapping[str, str] = ...,
            pages: Pages = ...,
            must_page: tuple[str, ...] = ...,
            need_not_page: Mapping[str, str] = ...,
        ) -> None: ...

    @model_validator(mode="before")
    @classmethod
    def _flat_pages(cls, data: Any, info: ValidationInfo) -> Any:
        """In code, `must_page` and `need_not_page` say what the file nests under `pages`
        (where they are unknown fields)."""
        flat = ("must_page", "need_not_page")
        if isinstance(info.context, FromFile) or not isinstance(data, dict):
            return data
        if not any(name in data for name in flat):
            return data
        pages = {"must": data.get("must_page", ()), "need_not": data.get("need_not_page", {})}
        return {key: value for key, value in data.items() if key not in flat} | {"pages": pages}

    @property
    def must_page(self) -> tuple[str, ...]:
        """The classes some rule must notice: DEFAULT_MUST_PAGE when neither list names one."""
        if not self.pages.must and not self.pages.need_not:
            return DEFAULT_MUST_PAGE
        return self.pages.must

    @property
    def need_not_page(self) -> Mapping[str, str]:
        """The classes that need not page, each with why."""
        return self.pages.need_not
