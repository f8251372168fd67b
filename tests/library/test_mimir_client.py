"""StoreClient against a real local HTTP server: errors as fields, one session, the tenant."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from local_process import free_port
from store_stub import StoreStub, prometheus_error, serve_store

from scanium_e2e.clients.query import QueryError, StoreClient, StoreUnavailable
from scanium_e2e.polling import TransientError, poll

START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
END = datetime(2024, 5, 1, 13, 0, tzinfo=UTC)
API = "/prometheus/api/v1"


@pytest.fixture
def store() -> Iterator[StoreStub]:
    with serve_store() as stub:
        yield stub


@pytest.fixture
def client(store: StoreStub) -> Iterator[StoreClient]:
    client = StoreClient(store.url, tenant="team-a", timeout_s=5, name="Mimir")
    yield client
    client.close()


def test_a_400_with_a_prometheus_error_body_is_a_query_error_with_its_fields(
    store: StoreStub, client: StoreClient
) -> None:
    error = "1:3: parse error: unexpected end of input inside braces"
    store.answers[f"{API}/query_range"] = [(400, prometheus_error("bad_data", error))]
    with pytest.raises(QueryError) as caught:
        client.range("up{", START, END, 15)
    exc = caught.value
    assert (exc.status, exc.error_type, exc.error) == (400, "bad_data", error)
    assert exc.reason == f"bad_data: {error}"
    assert str(exc) == f"Mimir rejected the range query `up{{`: bad_data: {error}"
    assert client.history[-1].kind == "range query"


def test_a_4xx_without_a_json_body_carries_the_text_cut_short(
    store: StoreStub, client: StoreClient
) -> None:
    store.answers[f"{API}/labels"] = [(401, "no org id\n" + "x" * 1000)]
    with pytest.raises(QueryError) as caught:
        client.label_names(start=START, end=END)
    exc = caught.value
    assert (exc.status, exc.error_type) == (401, "")
    assert exc.error.startswith("no org id") and exc.error.endswith(" ...")
    assert len(exc.error) < 400
    assert str(exc).startswith("Mimir rejected the label names: no org id")


def test_a_503_is_transient_and_polling_waits_it_out(store: StoreStub, client: StoreClient) -> None:
    busy = (503, prometheus_error("unavailable", "no queriers available"))
    ok = (200, {"status": "success", "data": {"resultType": "vector", "result": []}})
    store.answers[f"{API}/query"] = [busy, busy, ok]
    with pytest.raises(StoreUnavailable) as caught:
        client.instant("up")
    exc = caught.value
    assert isinstance(exc, TransientError) and not isinstance(exc, QueryError)
    assert (exc.status, exc.error_type, exc.error) == (503, "unavailable", "no queriers available")
    assert str(exc) == "Mimir answered HTTP 503: unavailable: no queriers available"
    result = poll(
        lambda: client.instant("up"), bool_true, what="Mimir", timeout_s=5, interval_s=0.01
    )
    assert result.ok and result.value == [] and result.attempts == 2
    assert len([s for s in store.seen if s.path == f"{API}/query"]) == 3


def bool_true(_: object) -> bool:
    return True


def test_connection_refused_is_transient() -> None:
    port = free_port()
    client = StoreClient(f"http://127.0.0.1:{port}", timeout_s=2, name="Mimir")
    with pytest.raises(TransientError) as caught:
        client.series("up", START, END)
    assert str(caught.value) == (
        f"Mimir at http://127.0.0.1:{port} is unreachable (connection refused)"
    )
    with pytest.raises(TransientError, match="/ready unreachable"):
        client.ready()
    client.close()


def test_series_and_labels_go_through_the_library_on_one_session(
    store: StoreStub, client: StoreClient
) -> None:
    store.answers[f"{API}/series"] = [
        (200, {"status": "success", "data": [{"__name__": "up", "job": "alloy"}]})
    ]
    store.answers[f"{API}/labels"] = [(200, {"status": "success", "data": ["__name__", "job"]})]
    store.answers[f"{API}/label/job/values"] = [(200, {"status": "success", "data": ["alloy"]})]
    store.answers["/ready"] = [(200, "ready\n")]
    store.answers["/metrics"] = [(200, "# no samples\n")]

    assert client.series("up", START, END) == [{"__name__": "up", "job": "alloy"}]
    assert client.label_names("up", START, END) == ["__name__", "job"]
    assert client.label_values("job", "up", START, END) == ["alloy"]
    assert client.ready() == "ready"
    assert client.own_metrics() == "# no samples\n"

    paths = [s.path for s in store.seen]
    assert paths == [
        f"{API}/series",
        f"{API}/labels",
        f"{API}/label/job/values",
        "/ready",
        "/metrics",
    ]
    assert all(s.headers.get("X-Scope-OrgID") == "team-a" for s in store.seen)
    for seen in store.seen[:3]:
        assert seen.params["match[]"] == ["up"]
        assert float(seen.params["start"][0]) == START.timestamp()
        assert float(seen.params["end"][0]) == END.timestamp()
    # One keep-alive connection of one session carried every API request.
    assert len({s.client_port for s in store.seen[:3]}) == 1


def test_ready_and_metrics_judge_their_own_answers(store: StoreStub, client: StoreClient) -> None:
    store.answers["/ready"] = [(503, "Ingester not ready\n")]
    store.answers["/metrics"] = [(500, "oops\n")]
    with pytest.raises(TransientError) as caught:
        client.ready()
    assert not isinstance(caught.value, StoreUnavailable)
    assert str(caught.value) == "Mimir /ready: HTTP 503 Ingester not ready\n"
    assert client.own_metrics() == "oops\n"
