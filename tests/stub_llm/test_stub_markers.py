"""The marker grammar of ``stub_llm.markers``."""

from __future__ import annotations

import pytest
from stub_llm.markers import (
    Directives,
    MarkerError,
    delay_marker,
    error_ref_marker,
    fault_marker,
    parse_markers,
    rate_limit_marker,
    tokens_marker,
)


def test_no_markers_means_default_directives() -> None:
    assert parse_markers(["hello", "world"]) == Directives()


@pytest.mark.parametrize("fault", ["429", "500", "503", "malformed"])
def test_fault_marker_anywhere_in_any_text(fault: str) -> None:
    directives = parse_markers(["system prompt", f"please{fault_marker(fault)}now"])  # type: ignore[arg-type]
    assert directives.fault == fault


def test_markers_combine() -> None:
    text = f"{fault_marker('503')} {delay_marker(250)} {tokens_marker(7, 9)}"
    assert parse_markers([text]) == Directives(fault="503", delay_ms=250, tokens=(7, 9))


def test_error_ref_marker_is_read() -> None:
    text = f"{fault_marker('500')} {error_ref_marker('pt-canary-Xy.z_1')}"
    assert parse_markers([text]) == Directives(fault="500", error_ref="pt-canary-Xy.z_1")


def test_rate_limit_marker_is_read() -> None:
    assert parse_markers([f"hi {rate_limit_marker(4990, 159000)}"]).rate_limits == (4990, 159000)


def test_last_occurrence_wins() -> None:
    assert parse_markers(["[[stub:delay_ms=5]]", "[[stub:delay_ms=10]]"]).delay_ms == 10


@pytest.mark.parametrize("header", ["429", " 429 ", "[[stub:fault=429]]"])
def test_header_sets_the_fault_and_wins(header: str) -> None:
    assert parse_markers(["[[stub:fault=500]]"], fault_header=header).fault == "429"


def test_header_may_carry_several_markers() -> None:
    directives = parse_markers([], fault_header="[[stub:fault=503]][[stub:delay_ms=20]]")
    assert directives == Directives(fault="503", delay_ms=20)


def test_empty_header_is_ignored() -> None:
    assert parse_markers(["x"], fault_header="  ") == Directives()


@pytest.mark.parametrize(
    "text",
    [
        "[[stub:fault=418]]",
        "[[stub:delay_ms=abc]]",
        "[[stub:delay_ms=600001]]",
        "[[stub:tokens=5]]",
        "[[stub:tokens=-1,2]]",
        "[[stub:colour=red]]",
        "[[stub:error_ref=a/b]]",
    ],
)
def test_invalid_markers_are_errors(text: str) -> None:
    with pytest.raises(MarkerError):
        parse_markers([text])


def test_invalid_header_value_is_an_error() -> None:
    with pytest.raises(MarkerError):
        parse_markers([], fault_header="teapot")


def test_text_that_only_resembles_a_marker_is_ignored() -> None:
    assert parse_markers(["[stub:fault=500]", "[[stub fault=500]]"]) == Directives()
