"""The diagnosis and the hard errors decide on findings and parsed fields, not on words."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from fake_pipeline import BACKEND_URL, FakeAlloy, FakeStore, fake_pipeline, string, target_json

from scanium_e2e.checks.waits import pipeline_hard_error, poll_check
from scanium_e2e.clients.alloy import RemoteWriteCounters, ScrapeTarget
from scanium_e2e.errors import CheckFailed
from scanium_e2e.findings import Finding, Kind
from scanium_e2e.polling import HardError
from scanium_e2e.verdict.causes import cause_of
from scanium_e2e.verdict.diagnose import (
    HopReport,
    diagnose,
    hop_alloy_scrape,
    hop_backend_metrics,
)

FORBIDDEN = "server returned HTTP status 403 Forbidden"
REFUSED = (
    'Get "http://scanium-backend:8080/metrics": dial tcp 172.18.0.4:8080: connect: '
    "connection refused"
)


def test_an_http_status_from_alloy_is_a_hard_error() -> None:
    pipeline = fake_pipeline(alloy=FakeAlloy([target_json("down", FORBIDDEN)]))
    with pytest.raises(HardError) as raised:
        pipeline_hard_error(pipeline)
    assert str(raised.value) == (
        "prometheus.scrape.backend: "
        f"Alloy's scrape of scanium-backend:8080/metrics got HTTP 403 Forbidden ({FORBIDDEN})"
    )


def test_a_connection_error_is_waited_out() -> None:
    # The backend may be restarting: no status, no hard error.
    pipeline_hard_error(fake_pipeline(alloy=FakeAlloy([target_json("down", REFUSED)])))


TIMED_OUT = 'Get "http://scanium-backend:8080/metrics": context deadline exceeded'


def test_a_failure_without_status_is_final_once_it_repeats_on_consecutive_scrapes() -> None:
    """A /metrics slower than the scrape timeout: the same error on two scrapes in a row
    after the run began is final, and says how long /metrics takes against the timeout."""
    alloy = FakeAlloy(arguments=[{"name": "scrape_timeout", "type": "attr", "value": string("1s")}])
    pipeline = fake_pipeline(alloy=alloy)
    first = target_json("down", TIMED_OUT, last_scrape="2026-11-26T10:00:05Z")
    second = target_json("down", TIMED_OUT, last_scrape="2026-11-26T10:00:06Z")
    alloy.targets = [first]
    pipeline_hard_error(pipeline)  # one failed scrape: it may pass
    alloy.targets = [second]
    with pytest.raises(HardError) as raised:
        pipeline_hard_error(pipeline)
    finding = raised.value.reason
    assert isinstance(finding, Finding) and (finding.hop, finding.kind) == (2, Kind.SCRAPE_FAILED)
    assert re.fullmatch(
        re.escape(
            "prometheus.scrape.backend: Alloy's scrape of scanium-backend:8080/metrics failed: "
            f"{TIMED_OUT}, on 2 consecutive scrapes; GET {BACKEND_URL}/metrics answers HTTP "
            "200 in "
        )
        + r"\d+\.\d s, the scrape timeout is 1 s",
        str(raised.value),
    ), str(raised.value)


def test_a_check_that_meets_the_repeated_failure_says_what_it_saw_of_it_first() -> None:
    # The ladder's hop 2 names the same fault with less: the summary line and JUnit message
    # (the failure's first finding) carry the consecutive scrapes and the timing.
    alloy = FakeAlloy(arguments=[{"name": "scrape_timeout", "type": "attr", "value": string("1s")}])
    pipeline = fake_pipeline(alloy=alloy)
    alloy.targets = [target_json("down", TIMED_OUT, last_scrape="2026-11-26T10:00:05Z")]
    pipeline_hard_error(pipeline)
    alloy.targets = [target_json("down", TIMED_OUT, last_scrape="2026-11-26T10:00:06Z")]
    with pytest.raises(CheckFailed) as raised:
        poll_check(
            pipeline,
            lambda: pipeline_hard_error(pipeline),
            lambda _: False,
            what="up",
            describe=str,
            metric="up",
        )
    assert len(raised.value.findings) == 1, raised.value.findings
    sentence = cause_of(raised.value).sentence
    assert sentence.startswith("hop 2 (Alloy scrape): prometheus.scrape.backend: "), sentence
    assert "on 2 consecutive scrapes" in sentence and "the scrape timeout is 1 s" in sentence


def test_a_success_between_two_failures_starts_the_count_again() -> None:
    alloy = FakeAlloy()
    pipeline = fake_pipeline(alloy=alloy)
    for health, error, moment in (
        ("down", REFUSED, "10:00:05"),
        ("up", "", "10:00:06"),
        ("down", REFUSED, "10:00:07"),
    ):
        alloy.targets = [target_json(health, error, last_scrape=f"2026-11-26T{moment}Z")]
        pipeline_hard_error(pipeline)


def test_failed_scrapes_before_the_run_began_do_not_count() -> None:
    alloy = FakeAlloy()
    pipeline = fake_pipeline(alloy=alloy)
    for moment in ("09:59:58", "09:59:59"):  # the pipeline's checks began at 10:00:00
        alloy.targets = [target_json("down", REFUSED, last_scrape=f"2026-11-26T{moment}Z")]
        pipeline_hard_error(pipeline)


def test_the_decision_is_on_the_status_field_not_the_text() -> None:
    words = "proxy said: HTTP status unknown"
    without = ScrapeTarget("http://b/metrics", "down", words, "", {"job": "scanium-backend"})
    pipeline_hard_error(fake_pipeline(alloy=FakeAlloy(parsed=[without])))
    coded = ScrapeTarget(
        "http://b/metrics", "down", "", "", {"job": "scanium-backend"}, http_status=500
    )
    with pytest.raises(HardError, match="got HTTP 500 "):
        pipeline_hard_error(fake_pipeline(alloy=FakeAlloy(parsed=[coded])))


def test_the_wrong_job_reads_the_same_in_the_hard_error_and_the_diagnosis() -> None:
    pipeline = fake_pipeline(alloy=FakeAlloy([target_json("up", job="backend")]))
    with pytest.raises(HardError) as raised:
        pipeline_hard_error(pipeline)
    hop = hop_alloy_scrape(pipeline)
    assert hop.status == "broken" and hop.finding.kind == Kind.WRONG_JOB
    assert hop.finding.expected == "'scanium-backend'" and hop.finding.seen == "['backend']"
    assert (
        str(raised.value)
        == hop.detail
        == (
            "prometheus.scrape.backend: "
            "Alloy scrapes scanium-backend:8080/metrics as job ['backend'], "
            "not job='scanium-backend'"
        )
    )


def test_a_down_target_is_not_a_wrong_job() -> None:
    pipeline = fake_pipeline(alloy=FakeAlloy([target_json("down", REFUSED, job="backend")]))
    pipeline_hard_error(pipeline)
    assert hop_alloy_scrape(pipeline).finding.kind == Kind.SCRAPE_FAILED


def test_failed_samples_are_hard_only_in_a_stack_we_started() -> None:
    counters = RemoteWriteCounters(sent=5, failed=2, dropped=0, retried=0)
    pipeline = fake_pipeline(alloy=FakeAlloy(counters=counters))
    # First sighting: the store may not show its reason yet, so the poll goes on.
    pipeline_hard_error(pipeline)
    assert pipeline.remote_write_watch.failing_since is not None
    # Still failing, still unexplained, a scrape interval later: final.
    earlier = fake_pipeline(alloy=FakeAlloy(counters=counters))
    earlier.remote_write_watch.note(True, time.monotonic() - 1.0, hold_s=1.0)
    with pytest.raises(HardError, match=r"^remote write: .* failed=2 "):
        pipeline_hard_error(earlier)
    shared = fake_pipeline(alloy=FakeAlloy(counters=counters), started_here=False)
    shared.remote_write_watch.note(True, 0.0, hold_s=1.0)
    pipeline_hard_error(shared)


def test_a_remote_write_failure_that_clears_starts_its_clock_again() -> None:
    failing = RemoteWriteCounters(sent=5, failed=2, dropped=0, retried=0)
    alloy = FakeAlloy(counters=failing)
    pipeline = fake_pipeline(alloy=alloy)
    pipeline_hard_error(pipeline)
    alloy.counters = RemoteWriteCounters(sent=5, failed=0, dropped=0, retried=0)
    pipeline_hard_error(pipeline)
    assert pipeline.remote_write_watch.failing_since is None


def test_the_seed_incident_names_hop_1_with_the_scrape_status_at_hop_2() -> None:
    pipeline = fake_pipeline(
        metrics_status=403,
        metrics_text="HTTPS required",
        alloy=FakeAlloy([target_json("down", FORBIDDEN)]),
    )
    diagnosis = diagnose(pipeline)
    assert diagnosis.first_broken is not None
    assert diagnosis.first_broken.finding.kind == Kind.HTTP_STATUS
    assert [hop.finding.hop for hop in diagnosis.hops] == [1, 2, 3, 4, 5]
    lines = diagnosis.render().splitlines()
    assert lines[0] == (
        "Broken hop: 1. backend /metrics: GET http://127.0.0.1:18080/metrics over plain HTTP "
        "answered HTTP 403: HTTPS required"
    )
    assert lines[2] == (
        "  hop 2 (Alloy scrape): broken - prometheus.scrape.backend: "
        "Alloy's scrape of scanium-backend:8080/metrics got "
        f"HTTP 403 Forbidden ({FORBIDDEN})"
    )


def test_store_refusals_make_remote_write_failures_a_consequence() -> None:
    store = FakeStore(
        own='cortex_discarded_samples_total{reason="per_user_series_limit"} 4\n'
        "cortex_distributor_received_samples_total 9\n"
    )
    counters = RemoteWriteCounters(sent=5, failed=2, dropped=0, retried=0)
    diagnosis = diagnose(fake_pipeline(alloy=FakeAlloy(counters=counters), store=store))
    remote_write, ingestion = diagnosis.hops[2], diagnosis.hops[3]
    assert remote_write.status == "consequence"
    assert remote_write.finding.kind == Kind.SAMPLES_FAILED
    assert remote_write.detail.endswith("(Grafana Mimir refused them: see hop 4)")
    assert ingestion.finding.kind == Kind.SAMPLES_DISCARDED
    assert diagnosis.render().splitlines()[0] == (
        "Broken hop: 4. store ingestion: Grafana Mimir discarded samples "
        "(per_user_series_limit=4); received=9"
    )


def test_an_empty_query_carries_its_explanations_as_causes() -> None:
    hop = diagnose(fake_pipeline(), query='nope{a="b"}').hops[4]
    assert hop.status == "broken" and hop.finding.kind == Kind.QUERY_EMPTY
    assert [cause.kind for cause in hop.finding.causes] == [Kind.METRIC_NEVER_SEEN]
    assert hop.detail.startswith('`nope{a="b"}` is empty: `nope`: metric never seen between ')


def test_a_family_the_backend_lacks_is_a_finding_of_hop_1() -> None:
    hop = hop_backend_metrics(fake_pipeline(), "scanium_assistant_tokens_used")
    assert hop.finding.kind == Kind.METRIC_NOT_EXPOSED
    assert hop.finding.expected == "scanium_assistant_tokens_used"
    assert hop.headline() == (
        "backend /metrics: GET http://127.0.0.1:18080/metrics answered 200 with 2 samples but "
        "none of `scanium_assistant_tokens_used`"
    )


def test_an_unreachable_backend() -> None:
    pipeline = fake_pipeline()

    def refused() -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    pipeline.backend_metrics = refused
    hop = hop_backend_metrics(pipeline, None)
    assert hop.finding.kind == Kind.UNREACHABLE
    assert hop.detail == "GET http://127.0.0.1:18080/metrics failed: [Errno 111] Connection refused"


def _hop_4(
    store_metrics: str, sent: float = 10, failed: float = 0, retried: float = 0
) -> HopReport:
    """Hop 4 of a diagnosis over the store's own /metrics and Alloy's counters."""
    counters = RemoteWriteCounters(sent=sent, failed=failed, dropped=0, retried=retried)
    pipeline = fake_pipeline(store=FakeStore(own=store_metrics), alloy=FakeAlloy(counters=counters))
    return diagnose(pipeline).hops[3]


def test_ingester_failures_without_a_reason_break_hop_4_when_alloy_s_pushes_failed() -> None:
    # Seen with Cortex's per-user series limit: every sample refused, no discard reason.
    ingestion = _hop_4(
        "cortex_ingester_ingested_samples_failures_total 108\n"
        "cortex_distributor_received_samples_total 108\n",
        sent=108,
        failed=108,
    )
    assert ingestion.status == "broken"
    assert ingestion.finding.kind == Kind.SAMPLES_DISCARDED
    assert "refused by its ingesters, no reason counted=108" in ingestion.detail


def test_ingester_failures_of_other_writers_leave_hop_4_ok() -> None:
    """The ruler writes through the same ingesters (seen in CI: 6 failed samples while rule
    sets were reloaded, every push of Alloy accepted): not the pipeline's, not final."""
    ingestion = _hop_4(
        "cortex_ingester_ingested_samples_failures_total 6\n"
        "cortex_distributor_received_samples_total 1528\n"
    )
    assert ingestion.status == "ok"
    assert ingestion.detail == (
        "received=1528 samples, none of Alloy's discarded; it refused samples of its other "
        "writers (its ruler): refused by its ingesters, no reason counted=6"
    )


def test_discards_with_a_reason_while_alloy_s_pushes_all_succeed_are_other_writers() -> None:
    """CI: two rule groups wrote one series (sample-out-of-order=8), Alloy sent 1620
    samples with none failed, dropped or retried; hop 4 blamed the pipeline."""
    ingestion = _hop_4(
        'cortex_discarded_samples_total{reason="sample-out-of-order",user="fake"} 8\n'
        "cortex_distributor_received_samples_total 1692\n",
        sent=1620,
    )
    assert ingestion.status == "ok"
    assert ingestion.detail.endswith("(its ruler): sample-out-of-order=8")


def test_discards_while_alloy_retries_are_the_pipeline_s() -> None:
    """A rate-limited push answers 429: Alloy retries it and counts nothing failed."""
    ingestion = _hop_4(
        'cortex_discarded_samples_total{reason="rate_limited",user="fake"} 40\n'
        "cortex_distributor_received_samples_total 90\n",
        sent=50,
        retried=40,
    )
    assert ingestion.status == "broken"
    assert ingestion.finding.seen == "rate_limited=40"


def test_a_store_that_refused_nothing_is_ok_at_hop_4() -> None:
    ingestion = _hop_4(
        "cortex_ingester_ingested_samples_failures_total 0\n"
        "cortex_distributor_received_samples_total 9\n"
    )
    assert ingestion.status == "ok"
