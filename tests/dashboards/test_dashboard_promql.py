"""The PromQL reader: selectors, matchers, groupings; strings and nesting must not fool it."""

from __future__ import annotations

import pytest

from scanium_e2e.promql import (
    Matcher,
    PromQLSyntaxError,
    analyse,
    format_duration,
    labels_reaching,
    metric_names,
    parse_duration,
    selectors,
    unquote,
)


def test_metric_and_matchers() -> None:
    (found,) = selectors(
        'scanium_assistant_requests_total{provider=~"openai|claude", status!="error"}'
    )
    assert found.name == "scanium_assistant_requests_total"
    assert found.matchers == (
        Matcher("provider", "=~", "openai|claude"),
        Matcher("status", "!=", "error"),
    )
    assert found.promql() == (
        'scanium_assistant_requests_total{provider=~"openai|claude",status!="error"}'
    )
    assert found.promql(only_name=True) == "scanium_assistant_requests_total"


def test_range_and_enclosing_functions() -> None:
    expr = 'histogram_quantile(0.95, sum by (le) (rate(lat_bucket{p="x"}[5m])))'
    (found,) = selectors(expr)
    assert found.range_text == "5m" and found.range_s == 300
    assert found.functions == ("rate", "sum", "histogram_quantile")
    assert found.two_sample_function == "rate"
    assert found.text == 'lat_bucket{p="x"}'


def test_strings_with_braces_and_parens_do_not_confuse_it() -> None:
    expr = (
        'label_replace(up{job="a}{(b"}, "dst", "$1", "src", "(.*)") '
        '+ on (x) group_left (y) other{v=~"[)}]+"}'
    )
    found = selectors(expr)
    assert [s.name for s in found] == ["up", "other"]
    assert found[0].matchers == (Matcher("job", "=", "a}{(b"),)
    assert found[1].matchers == (Matcher("v", "=~", "[)}]+"),)


def test_keywords_and_grouping_labels_are_not_metrics() -> None:
    expr = (
        "sum without (instance) (rate(a[1m])) / ignoring (le) sum(b) by (provider) "
        "and on() c offset 5m > bool 0 or vector(1) unless d @ end()"
    )
    assert metric_names(expr) == {"a", "b", "c", "d"}


def test_grouping_before_and_after_the_body() -> None:
    analysis = analyse("sum by (provider) (x) + sum(y) without (le) + count(z)")
    modes = [
        (g.operator, g.mode, g.labels, [s.name for s in g.selectors]) for g in analysis.groupings
    ]
    assert modes == [("sum", "by", ("provider",), ["x"]), ("sum", "without", ("le",), ["y"])]


def test_comments_quoted_names_and_name_matchers() -> None:
    expr = '# a comment with {braces}\n{__name__="foo", by="bar"} + {"my.metric", a=\'b\'}'
    first, second = selectors(expr)
    assert first.name == "foo" and first.label_matchers == (Matcher("by", "=", "bar"),)
    assert second.name == "my.metric"
    assert second.promql() == '{__name__="my.metric",a="b"}'


def test_subquery_range_is_not_a_selector_range() -> None:
    (found,) = selectors("max_over_time(rate(x[1m])[30m:1m])")
    assert found.range_s == 60 and found.two_sample_function == "rate"
    (sub,) = selectors("x[10m:1m]")
    assert sub.range_s is None and sub.two_sample_function == ""


def test_escapes_in_strings() -> None:
    (found,) = selectors(r'x{a=~"a\\.b", b="q\"uote", c=`raw\.x`}')
    assert [m.value for m in found.matchers] == [r"a\.b", 'q"uote', r"raw\.x"]
    assert unquote(r'"\x41\u00e9\101"') == "Aé" + "A"


def test_matcher_regex_is_anchored() -> None:
    assert Matcher("p", "=~", "open").matches("open")
    assert not Matcher("p", "=~", "open").matches("openai")
    assert Matcher("p", "!~", "open.*").matches("claude")
    assert Matcher("p", "!=", "x").matches("")
    with pytest.raises(PromQLSyntaxError):
        Matcher("p", "=~", "(").matches("x")


@pytest.mark.parametrize(
    "expr",
    ["sum(rate(x[5m])", "sum(x))", 'x{a="b"', 'x{a="b}', "x{a}", "rate(x[5m)"],
)
def test_malformed_expressions_raise(expr: str) -> None:
    with pytest.raises(PromQLSyntaxError):
        analyse(expr)


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("this is not promql", "invalid promql query"),
        ("sum(x[5m] offset 1m)", "expected type vector in aggregation expression, got matrix"),
    ],
)
def test_invalid_promql_is_reported_with_the_expression(expr: str, reason: str) -> None:
    with pytest.raises(PromQLSyntaxError, match=reason) as caught:
        analyse(expr)
    assert caught.value.expr == expr


def test_raw_string_with_a_backslash_and_holt_winters_are_read() -> None:
    (found,) = selectors(r'holt_winters(x{a=~`v\d+\.\d+`, b=`c"d`}[10m], 0.5, 0.1)')
    assert found.matchers == (Matcher("a", "=~", r"v\d+\.\d+"), Matcher("b", "=", 'c"d'))
    assert found.two_sample_function == "holt_winters" and found.range_s == 600
    # A backquote inside a double-quoted string is not a raw string.
    (quoted,) = selectors(r'x{a="`\\`", b=`\`}')
    assert [m.value for m in quoted.matchers] == ["`\\`", "\\"]


def test_or_inside_braces_is_one_selector_per_branch() -> None:
    first, second = selectors('up{job="a", env="p" or job="b"}')
    assert (first.name, first.matchers) == (
        "up",
        (Matcher("job", "=", "a"), Matcher("env", "=", "p")),
    )
    assert (second.name, second.matchers) == ("up", (Matcher("job", "=", "b"),))


def test_labels_reaching_through_inner_aggregations() -> None:
    analysis = analyse(
        "sum by (provider) (sum by (status) (x)) + "
        'sum by (dst) (label_replace(y, "dst", "$1", "src", ".*"))'
    )
    outer, _, replaced = analysis.groupings
    (x,) = outer.selectors
    assert labels_reaching(x, outer.scope_id, {"provider", "status"}) == {"status"}
    (y,) = replaced.selectors
    assert "dst" in labels_reaching(y, replaced.scope_id, {"src"})


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15s", 15), ("1m30s", 90), ("500ms", 0.5), ("1h", 3600), ("2d", 172800), ("30", 30)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("seconds", "text"), [(4, "4s"), (60, "1m"), (90, "1m30s"), (0.5, "500ms"), (7200, "2h")]
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_bad_duration() -> None:
    with pytest.raises(PromQLSyntaxError):
        parse_duration("5 minutes")
