"""Grafana's server-side expressions as the suite evaluates them: math (grammar, joins,
no data), reduce (functions and modes), threshold, classic_conditions, resample."""

from __future__ import annotations

import math

import pytest

from scanium_e2e.alerts.expressions import NO_DATA, Number, Results, Series, Unsupported
from scanium_e2e.alerts.expressions.classic import classic_command
from scanium_e2e.alerts.expressions.math import MathSyntaxError, evaluate_math, variables
from scanium_e2e.alerts.expressions.reduce import reduce_command
from scanium_e2e.alerts.expressions.resample import resample_command
from scanium_e2e.alerts.expressions.threshold import threshold_command


def numbers(*items: tuple[dict[str, str], float | None]) -> Results:
    return Results(tuple(Number(labels, value) for labels, value in items))


def values(results: Results) -> dict[tuple[tuple[str, str], ...], float | None]:
    return {
        tuple(sorted(item.labels.items())): item.value
        for item in results.items
        if isinstance(item, Number)
    }


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("-2 ** 2", 4.0),  # unary minus binds tighter than **, as in Bosun's grammar
        ("2 ** 3 ** 2", 64.0),  # left-associative
        ("7 % 4", 3.0),
        ("1 < 2 && 2 < 1", 0.0),
        ("1 < 2 || 2 < 1", 1.0),
        ("!0", 1.0),
        ("0x2A + 010", 50.0),  # hex and octal constants
        ("abs(-3) + floor(1.7) + ceil(1.2) + round(2.5)", 9.0),
        ("is_nan(nan()) + is_inf(infn()) + is_null(null()) + is_number(1)", 4.0),
    ],
)
def test_math_precedence_and_functions(expression: str, expected: float) -> None:
    assert values(evaluate_math(expression, {})) == {(): expected}


def test_math_division_by_zero_is_an_infinity_as_in_go() -> None:
    assert values(evaluate_math("1 / 0", {}))[()] == math.inf
    assert math.isnan(values(evaluate_math("0 / 0", {}))[()] or 0.0)


def test_math_joins_by_label_subset_and_broadcasts_constants() -> None:
    a = numbers(({"job": "x", "pod": "1"}, 4.0), ({"job": "y", "pod": "2"}, 9.0))
    b = numbers(({"job": "x"}, 2.0), ({"job": "y"}, 3.0))
    result = evaluate_math("$A / $B * 100", {"A": a, "B": b})
    assert values(result) == {
        (("job", "x"), ("pod", "1")): 200.0,
        (("job", "y"), ("pod", "2")): 300.0,
    }


def test_math_label_less_item_joins_anything() -> None:
    a = numbers(({"job": "x"}, 1.0), ({}, 0.0))
    result = evaluate_math("$A < 1", {"A": a})
    assert values(result) == {(("job", "x"),): 0.0, (): 1.0}


def test_math_series_op_series_at_common_timestamps() -> None:
    a = Results((Series({"a": "1"}, ((1.0, 2.0), (2.0, 4.0))),))
    b = Results((Series({"a": "1"}, ((2.0, 2.0), (3.0, 1.0))),))
    (item,) = evaluate_math("$A / $B", {"A": a, "B": b}).items
    assert isinstance(item, Series) and item.points == ((2.0, 2.0),)


def test_math_on_no_data_is_no_data_and_null_stays_null() -> None:
    assert evaluate_math("$A + 1", {"A": NO_DATA}).no_data
    assert values(evaluate_math("$A + 1", {"A": numbers(({}, None))})) == {(): None}


def test_math_names_its_variables_and_rejects_what_does_not_parse() -> None:
    assert variables("$A / ${B c} + $A") == ["A", "B c"]
    with pytest.raises(MathSyntaxError, match="does not parse"):
        evaluate_math("$A +", {"A": numbers(({}, 1.0))})
    with pytest.raises(Unsupported, match="math function sqrt"):
        evaluate_math("sqrt(4)", {})


def series(*points: float | None) -> Results:
    return Results((Series({"s": "1"}, tuple((float(i), v) for i, v in enumerate(points))),))


@pytest.mark.parametrize(
    ("reducer", "mode", "points", "expected"),
    [
        ("last", "strict", (1.0, 2.0, 3.0), 3.0),
        ("mean", "strict", (1.0, 2.0, 3.0), 2.0),
        ("sum", "strict", (), 0.0),
        ("count", "strict", (1.0, None), 2.0),
        ("max", "strict", (1.0, math.nan), math.nan),  # strict: a NaN makes NaN
        ("sum", "strict", (1.0, None), math.nan),  # strict: a null makes NaN
        ("mean", "strict", (), math.nan),
        ("max", "dropNN", (1.0, math.nan, None, math.inf, 5.0), 5.0),
        ("last", "dropNN", (1.0, math.nan), 1.0),
        ("mean", "dropNN", (math.nan,), math.nan),  # nothing left
        ("sum", "replaceNN", (1.0, None, math.nan), 21.0),  # replaced by 10
        ("median", "strict", (1.0, 9.0, 2.0), 2.0),
    ],
)
def test_reduce_functions_and_modes(
    reducer: str, mode: str, points: tuple[float | None, ...], expected: float
) -> None:
    model = {"reducer": reducer, "settings": {"mode": mode, "replaceWithValue": 10}}
    (value,) = values(reduce_command(model, series(*points))).values()
    assert value == expected or (math.isnan(expected) and value is not None and math.isnan(value))


def test_reduce_passes_numbers_and_no_data_through_and_drops_non_numbers_in_drop_mode() -> None:
    model = {"reducer": "last", "settings": {"mode": "dropNN"}}
    source = numbers(({"a": "1"}, 2.0), ({"a": "2"}, math.nan))
    assert values(reduce_command(model, source)) == {(("a", "1"),): 2.0}
    assert reduce_command(model, NO_DATA).no_data
    with pytest.raises(Unsupported, match="reduce function 'p99'"):
        reduce_command({"reducer": "p99"}, NO_DATA)


@pytest.mark.parametrize(
    ("kind", "params", "value", "expected"),
    [
        ("gt", [5], 6.0, 1.0),
        ("gt", [5], 5.0, 0.0),
        ("lt", [1], 0.0, 1.0),
        ("within_range", [1, 5], 5.0, 0.0),
        ("within_range_included", [1, 5], 5.0, 1.0),
        ("outside_range", [1, 5], 0.5, 1.0),
        ("outside_range", [1, 5], 3.0, 0.0),
        ("gt", [5], math.nan, 0.0),  # NaN compares false
        ("gt", [5], None, None),  # null stays null (no data for that instance)
    ],
)
def test_threshold_types(
    kind: str, params: list[float], value: float | None, expected: float | None
) -> None:
    model = {"conditions": [{"evaluator": {"type": kind, "params": params}}]}
    assert values(threshold_command(model, numbers(({}, value)))) == {(): expected}


def classic(
    reducer: str, kind: str, params: list[float], operator: str = "and"
) -> dict[str, object]:
    return {
        "evaluator": {"type": kind, "params": params},
        "operator": {"type": operator},
        "query": {"params": ["A"]},
        "reducer": {"type": reducer},
    }


def test_classic_conditions_any_series_and_operators() -> None:
    a = Results((Series({"x": "1"}, ((1.0, 1.0), (2.0, 3.0))), Series({"x": "2"}, ((1.0, 10.0),))))
    firing = classic_command({"conditions": [classic("avg", "gt", [5])]}, {"A": a})
    assert values(firing) == {(): 1.0}
    both = classic_command(
        {"conditions": [classic("avg", "gt", [5]), classic("max", "lt", [0])]}, {"A": a}
    )
    assert values(both) == {(): 0.0}
    either = classic_command(
        {"conditions": [classic("max", "lt", [0]), classic("diff", "gt", [1], "or")]}, {"A": a}
    )
    assert values(either) == {(): 1.0}  # series x=1 rose by 2
    assert classic_command({"conditions": [classic("avg", "gt", [5])]}, {"A": NO_DATA}).no_data


def test_classic_reducers_skip_nan_points_as_grafana_does() -> None:
    """A p95 over a step whose rate was 0 is NaN (seen in CI: the proof copy's Grafana p95
    rule stayed inactive while the same rule in PromQL held); Grafana skips it."""
    p95 = Results((Series({}, ((1.0, math.nan), (2.0, 49.0), (3.0, 50.0))),))
    firing = classic_command({"conditions": [classic("avg", "gt", [5])]}, {"A": p95})
    assert values(firing) == {(): 1.0}
    only_nan = Results((Series({}, ((1.0, math.nan),)),))
    none = classic_command({"conditions": [classic("avg", "no_value", [])]}, {"A": only_nan})
    assert values(none) == {(): 1.0}


def test_resample_pads_backfills_or_fills_with_null() -> None:
    source = Results((Series({}, ((10.0, 1.0), (30.0, 3.0))),))
    for upsampler, expected in (
        ("pad", (1.0, 1.0, 3.0)),
        ("backfilling", (1.0, 3.0, 3.0)),
        ("fillna", (1.0, None, 3.0)),
    ):
        model = {"window": "10s", "downsampler": "mean", "upsampler": upsampler}
        (item,) = resample_command(model, source, 10.0, 30.0).items
        assert isinstance(item, Series)
        assert tuple(v for _, v in item.points) == expected, upsampler
