"""Trajectory and argument match modes against their definitions, on hand-built calls."""

from __future__ import annotations

import pytest
from aiagents.evals.matching import ExpectedCall, compare_args, match_calls

from aiagents.trajectory import ToolCall


def C(name: str, **args) -> ToolCall:  # noqa: N802 - reads like a call
    return ToolCall(tool_name=name, args=args)


def E(name: str, **args) -> ExpectedCall:  # noqa: N802
    return ExpectedCall(tool=name, args=args)


REF = [E("search", q="a"), E("fetch", id="1"), E("answer")]


@pytest.mark.parametrize(
    ("actual", "mode", "passed", "score"),
    [
        ([C("search", q="a"), C("fetch", id="1"), C("answer")], "strict", True, 1.0),
        ([C("fetch", id="1"), C("search", q="a"), C("answer")], "strict", False, 1 / 3),
        ([C("fetch", id="1"), C("search", q="a"), C("answer")], "unordered", True, 1.0),
        ([C("search", q="a"), C("answer")], "unordered", False, 2 / 3),
        ([C("search", q="a"), C("answer")], "subset", True, 1.0),
        ([C("search", q="a"), C("answer")], "superset", False, 2 / 3),
        ([C("search", q="a"), C("search", q="b"), C("fetch", id="1"), C("answer")], "superset", True, 1.0),
        ([C("search", q="a"), C("search", q="b"), C("fetch", id="1"), C("answer")], "subset", False, 3 / 4),
        ([C("search", q="a"), C("search", q="a")], "subset", False, 1 / 2),  # multiset: one search only
        ([], "subset", True, 1.0),
        ([], "superset", False, 0.0),
    ],
)
def test_trajectory_modes(actual, mode, passed, score) -> None:
    res = match_calls(actual, REF, mode)
    assert res.passed is passed, res.reason
    assert res.score == pytest.approx(score)


def test_reason_names_first_problem() -> None:
    res = match_calls([C("search", q="a"), C("fetch", id="2"), C("answer")], REF, "strict")
    assert res.reason == "call #2: argument 'id': expected '1', got '2'"
    assert res.unmatched_actual == [1] and res.unmatched_expected == [1]
    res = match_calls([C("search", q="a")], REF, "superset")
    assert res.reason.startswith("superset: expected call #2 'fetch' not found")


def test_unordered_uses_maximum_matching_not_greedy() -> None:
    # a greedy pass would give the first actual call to the permissive expectation and then fail
    ref = [ExpectedCall(tool="f", allowed={"x": [1, 2]}), ExpectedCall(tool="f", allowed={"x": [1]})]
    assert match_calls([C("f", x=1), C("f", x=2)], ref, "unordered").passed


@pytest.mark.parametrize(
    ("args", "mode", "ok"),
    [
        ({"q": "a", "k": 3}, "exact", True),
        ({"q": "a"}, "exact", False),  # missing k
        ({"q": "a", "k": 3, "x": 1}, "exact", False),  # extra x
        ({"q": "a"}, "subset", True),
        ({"q": "a", "x": 1}, "subset", False),
        ({"q": "b"}, "subset", False),
        ({"q": "a", "k": 3, "x": 1}, "superset", True),
        ({"q": "a"}, "superset", False),
        ({"q": "zzz"}, "ignore", True),
    ],
)
def test_argument_modes(args, mode, ok) -> None:
    assert (compare_args(args, E("s", q="a", k=3), mode) == []) is ok


def test_allowed_value_sets_with_omittable_marker() -> None:
    e = ExpectedCall(tool="area", allowed={"base": [10], "unit": ["units", ""]})
    assert compare_args({"base": 10}, e) == []
    assert compare_args({"base": 10, "unit": "units"}, e) == []
    assert compare_args({"base": 10, "unit": ""}, e) == ["argument 'unit': '' not among allowed ['units', '']"]
    assert compare_args({"unit": "units"}, e) == ["missing argument 'base'"]
    assert e.concrete() == ToolCall(tool_name="area", args={"base": 10})


def test_bool_is_not_an_int_and_custom_comparators() -> None:
    assert compare_args({"n": True}, E("f", n=1)) == ["argument 'n': expected 1, got True"]
    assert compare_args({"n": 1.0}, E("f", n=1)) == []

    def close(call: ToolCall, exp: ExpectedCall) -> bool:
        return abs(call.args["x"] - exp.args["x"]) < 0.1

    assert match_calls([C("f", x=1.05)], [E("f", x=1.0)], comparators={"f": close}).passed
    assert not match_calls([C("f", x=1.5)], [E("f", x=1.0)], comparators={"f": close}).passed
    assert not match_calls([C("g", x=1.0)], [E("f", x=1.0)], comparators={"f": close}).passed
