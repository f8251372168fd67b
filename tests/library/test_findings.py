"""Finding: the data a check returns, and the sentence rendered from it."""

from __future__ import annotations

import pytest

from scanium_e2e.findings import Finding, Kind, distinct


def test_label_never_seen_renders_the_sentence_people_read() -> None:
    finding = Finding(
        Kind.LABEL_NEVER_SEEN,
        subject='requests_total{provider="openai"}',
        expected="provider",
        seen="job, status",
        detail="on `requests_total` between 10:00 and 10:15",
    )
    assert finding.render() == (
        '`requests_total{provider="openai"}`: label `provider` never seen on `requests_total` '
        "between 10:00 and 10:15 (its labels: job, status)"
    )
    assert str(finding) == finding.render()


def test_the_same_kind_reads_differently_at_another_hop() -> None:
    backend = Finding(
        Kind.HTTP_STATUS, subject="http://b:8080/metrics", seen="403", detail="HTTPS only", hop=1
    )
    scrape = Finding(
        Kind.HTTP_STATUS,
        subject="b:8080/metrics",
        seen="403 Forbidden",
        detail="server returned HTTP status 403 Forbidden",
        hop=2,
    )
    assert backend.render() == (
        "GET http://b:8080/metrics over plain HTTP answered HTTP 403: HTTPS only"
    )
    assert scrape.render() == (
        "Alloy's scrape of b:8080/metrics got HTTP 403 Forbidden "
        "(server returned HTTP status 403 Forbidden)"
    )


def test_wrong_job_names_both_jobs() -> None:
    finding = Finding(
        Kind.WRONG_JOB, subject="b:8080/metrics", expected="'scanium-backend'", seen="['x']"
    )
    assert finding.render() == (
        "Alloy scrapes b:8080/metrics as job ['x'], not job='scanium-backend'"
    )


def test_causes_render_after_the_finding_they_explain() -> None:
    never = Finding(Kind.METRIC_NEVER_SEEN, subject="up", detail="between a and b")
    empty = Finding(Kind.QUERY_EMPTY, subject="up{job='x'}", hop=5, causes=(never, never))
    assert empty.render() == (
        "`up{job='x'}` is empty: `up`: metric never seen between a and b; "
        "`up`: metric never seen between a and b"
    )


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_renders(kind: Kind) -> None:
    for hop in (None, 1, 2, 3, 4, 5):
        assert Finding(kind, subject="s", expected="e", seen="v", detail="d", hop=hop).render()


def test_distinct_drops_findings_that_read_the_same() -> None:
    a = Finding(Kind.COULD_NOT_CHECK, subject="x", detail="boom")
    b = Finding(Kind.COULD_NOT_CHECK, subject="x", detail="boom", hop=5)
    c = Finding(Kind.COULD_NOT_CHECK, subject="y", detail="boom")
    assert distinct([a, b, c, a]) == [a, c]
