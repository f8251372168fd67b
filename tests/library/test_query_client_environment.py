"""The store client reads the environment's proxy settings once, when it is built: requests
would iterate os.environ on every call, which races pytest rewriting PYTEST_CURRENT_TEST
when the count checks query from background threads (a KeyError seen in CI)."""

from __future__ import annotations

import os

import pytest

from scanium_e2e.clients.query import StoreClient


def test_proxies_are_taken_once_and_calls_never_iterate_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "")
    client = StoreClient("http://store.example:9009")
    session = client._session
    assert session.trust_env is False
    assert session.proxies.get("http") == "http://proxy.example:3128"
    merged = session.merge_environment_settings("http://store.example:9009", {}, None, None, None)
    assert merged["proxies"].get("http") == "http://proxy.example:3128"


class _Changing(dict[str, str]):
    """An environment another thread rewrites while it is iterated (pytest and
    PYTEST_CURRENT_TEST): iterating it fails as os.environ did in CI."""

    def __iter__(self):  # type: ignore[no-untyped-def]
        raise KeyError("PYTEST_CURRENT_TEST")

    def items(self):  # type: ignore[no-untyped-def]
        raise KeyError("PYTEST_CURRENT_TEST")


def test_a_call_never_iterates_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    client = StoreClient("http://127.0.0.1:9")
    monkeypatch.setattr(os, "environ", _Changing(os.environ))
    merged = client._session.merge_environment_settings("http://127.0.0.1:9", {}, None, None, None)
    assert merged["verify"] == client._session.verify  # the bundle read once, or True
    # The same call with the environment trusted (requests' default) is the CI failure.
    client._session.trust_env = True
    with pytest.raises(KeyError, match="PYTEST_CURRENT_TEST"):
        client._session.merge_environment_settings("http://127.0.0.1:9", {}, None, None, None)


def test_reading_the_environment_is_tried_again_when_it_changed_under_the_read() -> None:
    from scanium_e2e.settings import reading_environment

    tries: list[int] = []

    def read() -> str:
        tries.append(1)
        if len(tries) < 3:
            raise KeyError("PYTEST_CURRENT_TEST")
        return "read"

    assert reading_environment(read) == "read" and len(tries) == 3

    def never() -> str:
        raise RuntimeError("dictionary changed size during iteration")

    with pytest.raises(RuntimeError):
        reading_environment(never)
