"""BFCL checker: published AST semantics on hand-built cases; gold and perturbations on the real data;
the model path with a scripted FunctionModel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiagents.evals.bfcl import (
    BfclCase,
    BfclDataError,
    check_case,
    gold_calls,
    load_category,
    perturbations,
    score_gold,
    score_model,
    score_perturbations,
    standardize,
)
from aiagents.evals.bfcl.data import parse_call_string
from aiagents.evals.matching import ExpectedCall
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from aiagents.trajectory import ToolCall

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "bfcl"
needs_data = pytest.mark.skipif(not DATA.exists(), reason=f"BFCL data not found at {DATA}")

TRIANGLE = {
    "name": "calculate_triangle_area",
    "parameters": {
        "type": "dict",
        "properties": {
            "base": {"type": "integer"},
            "height": {"type": "float"},
            "unit": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["base", "height"],
    },
}


def simple_case(category: str = "simple_python") -> BfclCase:
    return BfclCase(
        id="t0",
        category=category,
        question=[[{"role": "user", "content": "Area of a triangle, base 10 and height 5?"}]],
        functions=[
            TRIANGLE,
            {"name": "other", "parameters": {"type": "dict", "properties": {}, "required": []}},
        ],
        expected=[
            ExpectedCall(
                tool="calculate_triangle_area",
                allowed={"base": [10], "height": [5.0], "unit": ["Square Units", ""], "tags": [["A b"], ""]},
            )
        ],
    )


def call(**args) -> ToolCall:
    return ToolCall(tool_name="calculate_triangle_area", args=args)


@pytest.mark.parametrize(
    ("calls", "ok", "why"),
    [
        ([call(base=10, height=5.0)], True, ""),
        ([call(base=10, height=5)], True, ""),  # int accepted for float
        ([call(base=10, height=5.0, unit="square-units")], True, ""),  # standardised string
        ([call(base=10, height=5.0, tags=["a B"])], True, ""),  # list elements standardised
        ([call(base=10, height=5.0, unit="meters")], False, "'unit': 'meters' not among allowed"),
        ([call(base=10.0, height=5.0)], False, "'base': type float is not integer"),
        ([call(base=True, height=5.0)], False, "'base': type bool is not integer"),
        ([call(base=10)], False, "missing required parameter 'height'"),
        ([call(base=10, height=5.0, colour="red")], False, "unexpected parameter 'colour'"),
        ([call(base=10, height=5.0)] * 2, False, "call #2 'calculate_triangle_area' is extra"),
        ([ToolCall(tool_name="other", args={})], False, "function 'other' instead of"),
        ([], False, "is missing"),
    ],
)
def test_simple_semantics(calls, ok, why) -> None:
    res = check_case(simple_case(), calls)
    assert res.passed is ok, res.reason
    assert why in res.reason


def test_standardize_matches_bfcl() -> None:
    assert standardize("April 1, 2024") == standardize("april 1 2024") == "april12024"
    assert standardize("it's") == 'it"s'


def test_parallel_is_unordered_and_irrelevance_wants_no_call() -> None:
    case = simple_case("parallel")
    case.expected = [
        ExpectedCall(tool="calculate_triangle_area", allowed={"base": [10], "height": [5.0]}),
        ExpectedCall(tool="calculate_triangle_area", allowed={"base": [3], "height": [4.0]}),
    ]
    a, b = call(base=10, height=5.0), call(base=3, height=4.0)
    assert check_case(case, [b, a]).passed
    assert not check_case(case, [b, a], mode="strict").passed
    assert not check_case(case, [a, a]).passed
    irr = simple_case("irrelevance")
    irr.expected = []
    assert check_case(irr, []).passed
    assert not check_case(irr, [a]).passed


def test_parse_call_string_names_positional_args() -> None:
    funcs = [{"name": "sort", "parameters": {"properties": {"file_name": {"type": "string"}}, "required": []}}]
    assert parse_call_string("sort('a.pdf')", funcs) == ToolCall(tool_name="sort", args={"file_name": "a.pdf"})
    assert parse_call_string("ls(a=True)", funcs) == ToolCall(tool_name="ls", args={"a": True})
    with pytest.raises(BfclDataError, match="no schema"):
        parse_call_string("cat('x')", funcs)


def test_perturbations_of_a_hand_case_all_fail() -> None:
    case = simple_case()
    assert gold_calls(case) == [call(base=10, height=5.0)]
    kinds = {}
    for p in perturbations(case):
        res = check_case(case, p.calls, mode=p.mode)
        assert not res.passed, (p.kind, p.calls)
        kinds[p.kind] = res.reason
    # one call only: no missing_call or swapped_order
    assert set(kinds) == {"wrong_function", "missing_required", "wrong_value", "extra_call"}
    assert kinds["wrong_function"] == "call #1: function 'other' instead of 'calculate_triangle_area'"
    assert kinds["missing_required"] == "call #1: missing required parameter 'base'"
    assert kinds["wrong_value"] == "call #1: parameter 'base': 1020 not among allowed [10]"


def test_loader_reports_file_and_line(tmp_path) -> None:
    (tmp_path / "BFCL_v4_simple_python.json").write_text('{"id": "a", "question": [], "function": []}\n{oops\n')
    with pytest.raises(BfclDataError, match=r"BFCL_v4_simple_python.json:2: invalid JSON"):
        load_category(tmp_path, "simple_python")


@needs_data
def test_gold_passes_and_perturbations_fail_on_real_data() -> None:
    cases = {
        c: load_category(DATA, c) for c in ("simple_python", "parallel_multiple", "irrelevance", "multi_turn_base")
    }
    gold = score_gold(cases)
    assert {c: (s.cases, s.passed) for c, s in gold.items()} == {
        "simple_python": (400, 400),
        "parallel_multiple": (200, 200),
        "irrelevance": (240, 240),
        "multi_turn_base": (200, 200),
    }
    pert = score_perturbations(cases)
    assert all(s.passed == s.cases for s in pert.values()), {k: s.failures[:1] for k, s in pert.items()}
    # missing_call only where there are >= 2 calls: all parallel_multiple + all multi-turn cases here
    assert pert["missing_call"].cases == 400
    assert pert["extra_call"].cases == 400 + 200 + 240 + 200


@needs_data
def test_multi_turn_ground_truth_is_parsed_per_turn() -> None:
    case = load_category(DATA, "multi_turn_base")[0]
    assert [len(t) for t in case.expected_turns] == [3, 2, 1, 4]
    assert case.expected_turns[2] == [ToolCall(tool_name="sort", args={"file_name": "final_report.pdf"})]
    assert "cp" not in {f["name"] for f in case.functions}  # excluded_function honoured


async def test_model_path_with_function_model() -> None:
    seen: list[list[str]] = []

    def policy(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append([t.name for t in info.function_tools])
        prompt = messages[-1].parts[0].content
        if "triangle" in prompt:
            return ModelResponse(parts=[ToolCallPart("calculate_triangle_area", json.dumps({"base": 10, "height": 5}))])
        return ModelResponse(parts=[TextPart("I cannot help with that.")])

    right = simple_case()
    wrong = simple_case()
    wrong.id, wrong.question = "t1", [[{"role": "user", "content": "What is the weather?"}]]
    irr = simple_case("irrelevance")
    irr.id, irr.expected, irr.question = "t2", [], [[{"role": "user", "content": "Weather in Paris?"}]]
    dotted = simple_case()
    dotted.id = "t3"
    dotted.functions = [{**TRIANGLE, "name": "geometry.triangle_area"}]
    dotted.expected = [ExpectedCall(tool="geometry.triangle_area", allowed={"base": [10], "height": [5.0]})]

    def dotted_policy(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[ToolCallPart(info.function_tools[0].name, {"base": 10, "height": 5.0})])

    scores, skipped = await score_model(FunctionModel(policy), {"simple_python": [right, wrong], "irrelevance": [irr]})
    assert (scores["simple_python"].cases, scores["simple_python"].passed) == (2, 1)
    assert scores["simple_python"].failures[0].id == "t1"
    assert (scores["irrelevance"].cases, scores["irrelevance"].passed) == (1, 1)
    assert skipped == []
    assert seen[0] == ["calculate_triangle_area", "other"]
    scores, _ = await score_model(FunctionModel(dotted_policy), {"simple_python": [dotted]})
    assert scores["simple_python"].passed == 1  # `geometry_triangle_area` mapped back to the dotted name


@pytest.mark.real_model
@needs_data
async def test_real_model_scores_some_simple_questions() -> None:
    from aiagents.evals.pytest_support import real_model_available

    from aiagents.models import resolve_model

    if not real_model_available():
        pytest.skip("needs a real model provider key")
    cases = {"simple_python": load_category(DATA, "simple_python")[:10]}
    scores, _ = await score_model(resolve_model().model, cases)
    assert scores["simple_python"].cases == 10
    assert scores["simple_python"].passed >= 5, scores["simple_python"].failures
