"""A finding: what a check, an explanation or a hop of the diagnosis saw, as data.

Code decides on a finding's fields (its `kind`, its `hop`); people read its rendering.
Each kind has one template over the fields, so the wording lives here, once, and the
producers fill in facts. `detail` holds the free-text rest of a sentence (an error's own
text, optional clauses), which the templates place at its end.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

# The hops of the pipeline, in the order data flows (verdict.diagnose inspects each).
HOP_NAMES = (
    "backend /metrics",
    "Alloy scrape",
    "remote write",
    "store ingestion",
    "query",
)
# The OTLP road's hops (verdict.otlp_diagnose): the same from remote write on.
OTLP_HOP_NAMES = (
    "backend OTLP export",
    "Alloy otelcol components",
    *HOP_NAMES[2:],
)
# A finding's road: "" for the scraped one, OTLP for what the backend pushes.
OTLP = "otlp"


def hop_name(hop: int | None, road: str = "") -> str:
    """The name of hop `hop` on `road` ("" when there is no such hop)."""
    names = OTLP_HOP_NAMES if road == OTLP else HOP_NAMES
    return names[hop - 1] if hop is not None and 1 <= hop <= len(names) else ""


class Kind(StrEnum):
    """Short stable identifiers of what was found."""

    # hop 1, the backend's /metrics; hop 2, Alloy's scrape
    UNREACHABLE = "unreachable"
    HTTP_STATUS = "http-status"
    UNPARSABLE = "unparsable"
    METRIC_NOT_EXPOSED = "metric-not-exposed"
    METRICS_SERVED = "metrics-served"
    NO_TARGETS = "no-targets"
    SCRAPE_FAILED = "scrape-failed"
    WRONG_JOB = "wrong-job"
    TARGETS_UP = "targets-up"
    # hop 3, remote write; hop 4, store ingestion
    SAMPLES_FAILED = "samples-failed"
    NOTHING_SENT = "nothing-sent"
    SAMPLES_SENT = "samples-sent"
    SAMPLES_DISCARDED = "samples-discarded"
    SAMPLES_ACCEPTED = "samples-accepted"
    # hop 5, the query
    NO_QUERY = "no-query"
    QUERY_REJECTED = "query-rejected"
    QUERY_RETURNED = "query-returned"
    QUERY_EMPTY = "query-empty"
    COUNTS_UNEXPLAINED = "counts-unexplained"
    # deviations of the backend's accounting from the contract (hard: waiting cures none)
    FAILURES_COUNTED_AS_SUCCESS = "failures-counted-as-success"
    COUNT_MOVED = "count-moved"
    ROUTE_PER_PATH = "route-per-path"
    HTTP_STATUS_DIFFERS = "http-status-differs"
    METRIC_NEVER_CREATED = "metric-never-created"
    # why a query is empty (explain.py, dashboard replay)
    UNREADABLE_EXPRESSION = "unreadable-expression"
    COULD_NOT_CHECK = "could-not-check"
    COULD_NOT_EXPLAIN = "could-not-explain"
    UNEXPLAINED = "unexplained"
    SERIES_NEVER_SEEN = "series-never-seen"
    METRIC_NEVER_SEEN = "metric-never-seen"
    LABEL_NEVER_SEEN = "label-never-seen"
    VALUE_NEVER_SEEN = "value-never-seen"
    REGEX_MATCHES_NO_VALUE = "regex-matches-no-value"
    MATCHER_EXCLUDES_ALL = "matcher-excludes-all"
    COMBINATION_NEVER_SEEN = "combination-never-seen"
    TOO_FEW_SAMPLES = "too-few-samples"
    SAMPLES_AFTER_LAST_STEP = "samples-after-last-step"
    ABSENT_IS_HEALTHY = "absent-is-healthy"
    GROUPING_LABEL_MISSING = "grouping-label-missing"
    NO_SELECTORS = "no-selectors"
    OPERATORS_EMPTIED = "operators-emptied"
    ALL_NAN = "all-nan"
    UNKNOWN_VARIABLE = "unknown-variable"
    # the suite's own checks of what the contract fixes (shape, policy, secrets)
    BUCKETS_DIFFER = "buckets-differ"
    OBSERVATIONS_MISPLACED = "observations-misplaced"
    LABEL_MISSING = "label-missing"
    LABEL_UNEXPECTED = "label-unexpected"
    VALUE_OUTSIDE_VOCABULARY = "value-outside-vocabulary"
    VALUE_UNJUSTIFIED = "value-unjustified"
    VALUE_AGAINST_POLICY = "value-against-policy"
    CACHE_HITS_MISCOUNTED = "cache-hits-miscounted"
    GAUGE_WRONG = "gauge-wrong"
    COUNT_SHORT = "count-short"
    DEPENDS_ON = "depends-on"
    HTTPS_NOT_ENFORCED = "https-not-enforced"
    SECRET_LEAKED = "secret-leaked"
    SERIES_OVER_BUDGET = "series-over-budget"
    ANSWER_NOT_PLANNED = "answer-not-planned"
    # alert rules judged on the scenarios (alerts/)
    RULE_HOLDS_ON_HEALTHY = "rule-holds-on-healthy"
    RULE_NO_DATA_ON_HEALTHY = "rule-no-data-on-healthy"
    RULE_ERRORS = "rule-errors"
    INCIDENT_UNNOTICED = "incident-unnoticed"
    CLASS_UNNOTICED = "class-unnoticed"
    CLASS_WITHOUT_REASON = "class-without-reason"
    RULE_DID_NOT_FIRE = "rule-did-not-fire"
    RECORDING_EMPTY = "recording-empty"
    ALERT_NOT_ROUTED = "alert-not-routed"
    # the OTLP road (verdict/otlp_diagnose.py, checks/otlp.py)
    OTLP_NOTHING_RECEIVED = "otlp-nothing-received"
    OTLP_POINTS_RECEIVED = "otlp-points-received"
    OTLP_OUTPUT_UNWIRED = "otlp-output-unwired"
    OTLP_POINTS_REFUSED = "otlp-points-refused"
    OTLP_POINTS_DROPPED = "otlp-points-dropped"
    OTLP_ROUTE_OK = "otlp-route-ok"
    OTLP_NAME_DIFFERS = "otlp-name-differs"
    OTLP_NEVER_PUSHED = "otlp-never-pushed"
    OTLP_RESOURCE_DIFFERS = "otlp-resource-differs"
    # a wait that reached its deadline before its answer was final: no finding, undecided
    UNDECIDED = "undecided"


# (hop, kind) first, then (None, kind): a kind reads differently at some hops.
_TEMPLATES: dict[tuple[int | None, Kind], str] = {
    (1, Kind.UNREACHABLE): "GET {subject} failed: {detail}",
    (1, Kind.HTTP_STATUS): "GET {subject} over plain HTTP answered HTTP {seen}: {detail}",
    (None, Kind.UNPARSABLE): "GET {subject}: {detail}",
    (None, Kind.METRIC_NOT_EXPOSED): "GET {subject} answered 200 with {seen} samples but none "
    "of `{expected}`",
    (None, Kind.METRICS_SERVED): "GET {subject}: HTTP 200, {seen} samples",
    (2, Kind.HTTP_STATUS): "Alloy's scrape of {subject} got HTTP {seen} ({detail})",
    (None, Kind.UNREACHABLE): "{subject}: {detail}",
    (None, Kind.HTTP_STATUS): "{subject} answered HTTP {seen} ({detail})",
    (None, Kind.NO_TARGETS): "{subject} has no targets",
    (None, Kind.SCRAPE_FAILED): "Alloy's scrape of {subject} failed: {detail}",
    (None, Kind.WRONG_JOB): "Alloy scrapes {subject} as job {seen}, not job={expected}",
    (None, Kind.TARGETS_UP): "{detail}",
    (None, Kind.SAMPLES_FAILED): "{subject}: {seen}{detail}",
    (None, Kind.NOTHING_SENT): "{subject}: {seen} (nothing sent yet){detail}",
    (None, Kind.SAMPLES_SENT): "{subject}: {seen}{detail}",
    (None, Kind.SAMPLES_DISCARDED): "{subject} discarded samples ({seen}); {detail}",
    (None, Kind.SAMPLES_ACCEPTED): "{seen} samples, none of Alloy's discarded{detail}",
    (None, Kind.NO_QUERY): "no query given",
    (None, Kind.QUERY_REJECTED): "`{subject}`: {detail}",
    (None, Kind.QUERY_RETURNED): "`{subject}` returned {seen}: {detail}",
    (None, Kind.QUERY_EMPTY): "`{subject}` is empty: {causes}",
    (None, Kind.COUNTS_UNEXPLAINED): "{subject} counts what the ledger cannot explain: "
    "expected {expected}, {subject} has {seen}",
    # `detail` is the amount moved: these sentences start with it.
    (None, Kind.FAILURES_COUNTED_AS_SUCCESS): "{detail} injected LLM failures were counted as "
    "{seen} in `{subject}`, where the contract puts them under {expected}",
    (None, Kind.COUNT_MOVED): "`{subject}` counted {detail} under {seen} that the plan puts "
    "under {expected}",
    (None, Kind.ROUTE_PER_PATH): "`{subject}` labels each unknown path with the path itself "
    "({seen}) where the contract's route for a path no route serves is {expected}: every "
    "path a client or scanner sends becomes a series of its own{detail}",
    (None, Kind.HTTP_STATUS_DIFFERS): "`{subject}` labels answers with statuses they did not "
    "have: the ledger's answers were {expected}; the counter has {seen}",
    (None, Kind.METRIC_NEVER_CREATED): "{subject} was never created: {detail} has no sample of "
    "it, while its siblings {seen} are there",
    (None, Kind.UNREADABLE_EXPRESSION): "could not read the expression to explain it ({detail})",
    (None, Kind.COULD_NOT_CHECK): "could not check `{subject}`: {detail}",
    (None, Kind.COULD_NOT_EXPLAIN): "could not explain ({detail})",
    (None, Kind.UNEXPLAINED): "no explanation found",
    (None, Kind.SERIES_NEVER_SEEN): "`{subject}`: no series matches it {detail}",
    (None, Kind.METRIC_NEVER_SEEN): "`{subject}`: metric never seen {detail}",
    (None, Kind.LABEL_NEVER_SEEN): "`{subject}`: label `{expected}` never seen {detail} "
    "(its labels: {seen})",
    (None, Kind.VALUE_NEVER_SEEN): "`{subject}`: `{expected}` never seen {detail}; {seen}",
    (None, Kind.REGEX_MATCHES_NO_VALUE): "`{subject}`: `{expected}` matches no value {detail}; "
    "{seen}",
    (None, Kind.MATCHER_EXCLUDES_ALL): "`{subject}`: `{expected}` excludes every series "
    "{detail}; {seen}",
    (None, Kind.COMBINATION_NEVER_SEEN): "`{subject}`: each matcher matches some series "
    "{detail}, but no series matches all of them together; combinations seen: {seen}",
    (None, Kind.TOO_FEW_SAMPLES): "`{subject}` has {detail} series, but {seen}: {expected}; "
    "make the range span two scrapes or more (Grafana's $__rate_interval does, when the data "
    "source's scrape interval is right)",
    (None, Kind.SAMPLES_AFTER_LAST_STEP): "`{subject}` has {detail} series, but {seen}: "
    "{expected}; its second sample came after the query's last step, so a later replay has "
    "data",
    (None, Kind.ABSENT_IS_HEALTHY): "`{subject}` has {seen} series, so {expected} returns "
    "nothing: that is the healthy state",
    (None, Kind.GROUPING_LABEL_MISSING): "`{subject}` groups by {expected}, which {detail} "
    "does not carry there (available: {seen}); every result series has it empty",
    (None, Kind.NO_SELECTORS): "the expression selects no series (only constants or "
    "functions of time)",
    (None, Kind.OPERATORS_EMPTIED): "every selector matches series in the window, so the "
    "operators emptied the result: check binary-operator label matching (on/ignoring), "
    "comparison filters, and offsets or @ modifiers",
    (None, Kind.ALL_NAN): "every value is NaN: histogram_quantile() over buckets that did not "
    "increase (no observations in the range), or a 0/0 division",
    (None, Kind.UNKNOWN_VARIABLE): "unknown variable {seen} left in the query",
    (None, Kind.BUCKETS_DIFFER): "`{subject}` has bucket bounds {seen}, the contract's are "
    "{expected}",
    (None, Kind.OBSERVATIONS_MISPLACED): "`{subject}` rose by {seen}, where the requests the "
    "ledger sent allow {expected}{detail}",
    (None, Kind.LABEL_MISSING): "{subject} lacks the contract's label(s) {expected} "
    "(its labels: {seen})",
    (None, Kind.LABEL_UNEXPECTED): "`{subject}` carries label `{expected}`, which the "
    "contract does not name, on {seen} ({detail})",
    (None, Kind.VALUE_OUTSIDE_VOCABULARY): "`{subject}` has {expected}={seen}, outside the "
    "label's vocabulary ({detail})",
    (None, Kind.VALUE_UNJUSTIFIED): "`{subject}` has {expected}={seen}, which no request of "
    "the ledger explains (it sent {detail})",
    (None, Kind.VALUE_AGAINST_POLICY): "`{subject}` has {expected}={seen}: {detail}",
    (None, Kind.CACHE_HITS_MISCOUNTED): "`{subject}` counted {seen} where {expected}{detail}",
    (None, Kind.GAUGE_WRONG): "`{subject}` is {seen}, where {expected}{detail}",
    (None, Kind.COUNT_SHORT): "`{subject}` rose by {seen}, short of the ledger's {expected}, "
    "and will not rise further{detail}",
    (None, Kind.DEPENDS_ON): "depends on {subject}, which {detail}",
    (None, Kind.HTTPS_NOT_ENFORCED): "{subject} over plain HTTP answered HTTP {seen}, not "
    "{expected}: HTTPS enforcement is off {detail}",
    (None, Kind.SECRET_LEAKED): "{subject}: {seen} leak(s) found",
    (None, Kind.SERIES_OVER_BUDGET): "series over budget (unbounded labels?): {detail}",
    (None, Kind.ANSWER_NOT_PLANNED): "{subject}: {seen} answer(s) other than the plan's: {detail}",
    (None, Kind.CLASS_UNNOTICED): "failure class `{subject}`{detail} must page, but no alert "
    "rule tells {seen}; a rule on `{expected}` would notice it",
    (None, Kind.CLASS_WITHOUT_REASON): "failure class `{subject}`{detail} pages no one on "
    "{seen}, and the contract gives no reason why it need not (`alerts.pages.need_not`)",
    (None, Kind.RULE_HOLDS_ON_HEALTHY): "alert rule `{subject}` holds on a healthy pipeline: "
    "`{expected}` is true for {seen}{detail}",
    (None, Kind.RULE_NO_DATA_ON_HEALTHY): "alert rule `{subject}` has no data on a healthy "
    "pipeline, so Grafana would send DatasourceNoData: `{expected}` {detail}",
    (None, Kind.RULE_ERRORS): "alert rule `{subject}` cannot be evaluated on the {seen} "
    "scenario: {detail}",
    (None, Kind.INCIDENT_UNNOTICED): "no rule tells the seed incident apart from health: "
    "`{subject}` was 0 for {seen}; {detail}; a rule that would notice it: `{expected}`",
    (None, Kind.RULE_DID_NOT_FIRE): "the contract says `{subject}` must fire on the {expected} "
    "scenario; it was {seen}",
    (None, Kind.RECORDING_EMPTY): "recording rule `{subject}` produced no series after the "
    "traffic: `{expected}` is empty{detail}",
    (None, Kind.ALERT_NOT_ROUTED): "the incident's alert `{subject}` {seen}{detail}",
    (None, Kind.OTLP_NOTHING_RECEIVED): "{subject} accepted no metric point since the stack "
    "started ({seen}){detail}",
    (None, Kind.OTLP_POINTS_RECEIVED): "{subject} accepted {seen} metric points, refused "
    "{expected}{detail}",
    (None, Kind.OTLP_OUTPUT_UNWIRED): "{subject} wires no `{expected}` output ({seen}), so "
    "the backend's OTLP {expected} go nowhere{detail}",
    (None, Kind.OTLP_POINTS_REFUSED): "{subject} refused {seen} of the backend's OTLP "
    "points{detail}",
    (None, Kind.OTLP_POINTS_DROPPED): "{subject} wrote none of the backend's {expected} to "
    "the store, though {seen}{detail}",
    (None, Kind.OTLP_ROUTE_OK): "{subject}{detail}",
    (None, Kind.OTLP_NAME_DIFFERS): "the store holds no `{expected}` of this run but `{seen}`"
    "{detail}",
    (None, Kind.OTLP_NEVER_PUSHED): "no OTLP export of the backend carries `{subject}`: the "
    "store holds {seen} from its exports after the traffic{detail}",
    (None, Kind.OTLP_RESOURCE_DIFFERS): "the backend's OTLP series carry {seen}, not "
    "{expected}{detail}",
    (None, Kind.UNDECIDED): "undecided after {seen} s: {subject} was not reached, and nothing "
    "seen made the answer final (last seen: {detail})",
}


@dataclass(frozen=True)
class Finding:
    """One fact about the pipeline: at which hop, of what kind, about what.

    `hop` is 1 (backend /metrics) to 5 (query), or None when the finding belongs to no
    hop (an explanation of a dashboard query). `causes` are the findings that explain
    this one (the reasons a query is empty).
    """

    kind: Kind
    subject: str = ""
    expected: str = ""
    seen: str = ""
    detail: str = ""
    hop: int | None = None
    causes: tuple[Finding, ...] = ()
    # The Alloy component the finding is about, when the subject is its target.
    component: str = ""
    # The road it was found on: "" (the scrape) or OTLP (`hop` counts that road's hops).
    road: str = ""

    def render(self) -> str:
        """The finding as the sentence a failure message shows."""
        template = _TEMPLATES.get((self.hop, self.kind)) or _TEMPLATES[(None, self.kind)]
        if self.component:
            template = "{component}: " + template
        return template.format(
            component=self.component,
            subject=self.subject,
            expected=self.expected,
            seen=self.seen,
            detail=self.detail,
            causes="; ".join(cause.render() for cause in self.causes),
        )

    def __str__(self) -> str:
        return self.render()


def distinct(findings: Iterable[Finding]) -> list[Finding]:
    """`findings` in order, without the ones that read the same as an earlier one."""
    by_text: dict[str, Finding] = {}
    for finding in findings:
        by_text.setdefault(finding.render(), finding)
    return list(by_text.values())


# The testcase property (JUnit XML) carrying one structured reason of a failure: the
# pytest plugin writes it, the mutation harness and the suite runner read it back.
FINDING_PROPERTY = "scanium-e2e.finding"


def finding_json(finding: object) -> str:
    """A failure's finding as the JSON a harness reads back: hop, kind, subject."""
    return json.dumps(
        {
            "hop": getattr(finding, "hop", None),
            "kind": str(getattr(finding, "kind", "")),
            "subject": str(getattr(finding, "subject", "")),
        }
    )
