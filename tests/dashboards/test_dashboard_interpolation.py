"""Grafana's interpolation forms, formats and escaping for Prometheus queries."""

from __future__ import annotations

import pytest

from scanium_e2e.dashboards.interpolation import (
    VariableValue,
    interpolate,
    prometheus_regex_escape,
    regex_escape,
)

MULTI = VariableValue("provider", ("openai", "claude"), multi=True, include_all=True)
DOTTED = VariableValue("model", ("gpt-4o", "gpt-4.1"), multi=True)
SINGLE = VariableValue("job", ("scanium-backend",))
QUOTED = VariableValue("name", ("it's\\here",))
VARS = {v.name: v for v in (MULTI, DOTTED, SINGLE, QUOTED)}


def expand(text: str, macros: dict[str, str] | None = None) -> str:
    return interpolate(text, VARS, macros).text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$job", "scanium-backend"),
        ("${job}", "scanium-backend"),
        ("[[job]]", "scanium-backend"),
        ("$provider", "(openai|claude)"),
        ("${provider}", "(openai|claude)"),
        ("[[provider]]", "(openai|claude)"),
        ("${provider:regex}", "(openai|claude)"),
        ("${provider:pipe}", "openai|claude"),
        ("${provider:csv}", "openai,claude"),
        ("${provider:raw}", "openai,claude"),
        ("[[provider:csv]]", "openai,claude"),
        ("${provider:glob}", "{openai,claude}"),
        ("${provider:json}", '["openai", "claude"]'),
        ("${provider:doublequote}", '"openai","claude"'),
        ("${provider:singlequote}", "'openai','claude'"),
        ("${provider:queryparam}", "var-provider=openai&var-provider=claude"),
        ("${provider:text}", "openai + claude"),
        ("${job:regex}", "scanium-backend"),
    ],
)
def test_forms_and_formats(text: str, expected: str) -> None:
    assert expand(text) == expected


def test_multi_values_are_regex_escaped_for_a_promql_string() -> None:
    # gpt-4.1 -> gpt-4\\.1 in the PromQL text, which the regex engine reads as gpt-4\.1
    assert expand('{model=~"$model"}') == '{model=~"(gpt-4o|gpt-4\\\\.1)"}'
    assert prometheus_regex_escape("a.b|c") == "a\\\\.b\\\\|c"


def test_regex_format_uses_a_single_backslash_like_grafana() -> None:
    assert expand("${model:regex}") == "(gpt-4o|gpt-4\\.1)"
    assert regex_escape("a/b.c") == "a\\/b\\.c"


def test_single_value_variable_is_only_quote_escaped() -> None:
    assert expand("$name") == "it\\\\'s\\\\here"


def test_all_without_all_value_lists_every_option() -> None:
    every = VariableValue("p", ("a", "b.c"), multi=True, include_all=True, is_all=True)
    assert interpolate('x{p=~"$p"}', {"p": every}).text == 'x{p=~"(a|b\\\\.c)"}'


def test_all_with_custom_all_value_is_used_as_written() -> None:
    every = VariableValue(
        "p", ("a", "b"), multi=True, include_all=True, is_all=True, all_value=".*"
    )
    assert interpolate('x{p=~"$p"}', {"p": every}).text == 'x{p=~".*"}'
    assert interpolate("${p:text}", {"p": every}).text == "All"


def test_repeat_binding_pins_one_value() -> None:
    pinned = MULTI.bound_to("claude")
    assert interpolate('x{provider="$provider"}', {"provider": pinned}).text == (
        'x{provider="claude"}'
    )


def test_macros_win_and_longer_names_are_not_cut() -> None:
    macros = {"__interval": "15s", "__interval_ms": "15000", "__rate_interval": "1m"}
    assert expand("[$__interval] $__interval_ms ${__rate_interval}", macros) == "[15s] 15000 1m"


def test_unknown_variables_stay_and_are_listed_but_regex_groups_are_not() -> None:
    result = interpolate('label_replace(x, "d", "$1", "s", "(.*)") + $nope', VARS)
    assert result.text.endswith("$nope") and '"$1"' in result.text
    assert result.unknown == ["nope"]
