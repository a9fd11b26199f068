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


def _write_jsonl(path: Path, rows: list[dict]) -> None:  # type: ignore[type-arg]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


FLIGHT = {
    "name": "search_flight",
    "description": "Find flights.",
    "parameters": {
        "type": "dict",
        "properties": {"origin": {"type": "string"}, "to": {"type": "string"}},
        "required": ["origin", "to"],
    },
}
JAVA_FN = {
    "name": "Map.put",
    "parameters": {
        "type": "dict",
        "properties": {"key": {"type": "String"}, "value": {"type": "HashMap"}},
        "required": ["key", "value"],
    },
}


@pytest.fixture
def v4_data(tmp_path: Path) -> Path:
    """The official layout with the categories beyond the first six: live, Java, relevance, uncovered ones."""
    ask = [[{"role": "user", "content": "Flights from Paris to Rome?"}]]
    _write_jsonl(
        tmp_path / "BFCL_v4_live_simple.json",
        [
            {"id": "ls_0", "question": ask, "function": [FLIGHT]},
            {"id": "ls_bad", "question": ask, "function": [FLIGHT]},
        ],
    )
    _write_jsonl(
        tmp_path / "possible_answer" / "BFCL_v4_live_simple.json",
        [
            {"id": "ls_0", "ground_truth": [{"search_flight": {"origin": ["Paris"], "to": ["Rome", "FCO"]}}]},
            # contradicts its schema: 'origin' is required but the ground truth only allows leaving it out
            {"id": "ls_bad", "ground_truth": [{"search_flight": {"origin": [""], "to": ["Rome"]}}]},
        ],
    )
    _write_jsonl(tmp_path / "BFCL_v4_live_irrelevance.json", [{"id": "li_0", "question": ask, "function": []}])
    _write_jsonl(tmp_path / "BFCL_v4_live_relevance.json", [{"id": "lr_0", "question": ask, "function": [FLIGHT]}])
    _write_jsonl(tmp_path / "BFCL_v4_simple_java.json", [{"id": "j_0", "question": ask, "function": [JAVA_FN]}])
    _write_jsonl(
        tmp_path / "possible_answer" / "BFCL_v4_simple_java.json",
        [{"id": "j_0", "ground_truth": [{"Map.put": {"key": ["name"], "value": ["new HashMap<>()"]}}]}],
    )
    _write_jsonl(tmp_path / "BFCL_v4_web_search.json", [{"id": "w_0", "question": ask, "function": []}])
    return tmp_path


def test_every_category_of_the_official_layout_is_scored_or_named_as_skipped(v4_data: Path) -> None:
    from typer.testing import CliRunner

    from aiagents.cli import app

    result = CliRunner().invoke(app, ["eval", "bfcl", "--data", str(v4_data), "--gold", "--perturb", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    gold = report["gold"]
    assert {c: (v["cases"], v["passed"]) for c, v in gold.items()} == {
        "simple_java": (1, 1),
        "live_simple": (1, 1),
        "live_irrelevance": (1, 1),
        "live_relevance": (1, 1),
    }
    (bad,) = gold["live_simple"]["invalid_ground_truth"]
    assert bad["id"] == "ls_bad" and "required parameter 'origin' may only be left out" in bad["reason"]
    assert all(v["cases"] == v["detected"] > 0 for v in report["perturb"].values()), report["perturb"]
    assert "missing_call" in report["perturb"]  # relevance: calling nothing must fail
    assert set(report["skipped"]) == {"web_search"} and "web search" in report["skipped"]["web_search"]


def test_relevance_wants_a_call_and_live_parallel_is_unordered() -> None:
    relevance = BfclCase(id="r", category="live_relevance", question=[], functions=[FLIGHT])
    assert check_case(relevance, []).passed is False
    assert check_case(relevance, [ToolCall(tool_name="search_flight", args={})]).passed is True
    both = [ExpectedCall(tool="search_flight", allowed={"origin": [o], "to": ["Rome"]}) for o in ("Paris", "Oslo")]
    case = BfclCase(id="p", category="live_parallel", question=[], functions=[FLIGHT], expected=both)
    calls = [ToolCall(tool_name="search_flight", args={"origin": o, "to": "Rome"}) for o in ("Oslo", "Paris")]
    assert check_case(case, calls).passed is True


def test_a_malformed_ground_truth_names_file_and_id(tmp_path: Path) -> None:
    _write_jsonl(
        tmp_path / "BFCL_v4_multi_turn_base.json",
        [{"id": "mt_0", "question": [[]], "involved_classes": ["MathAPI"]}],
    )
    _write_jsonl(tmp_path / "multi_turn_func_doc" / "math_api.json", [{"name": "add", "parameters": {}}])
    _write_jsonl(
        tmp_path / "possible_answer" / "BFCL_v4_multi_turn_base.json", [{"id": "mt_0", "ground_truth": [["add(1"]]}]
    )
    with pytest.raises(BfclDataError, match=r"BFCL_v4_multi_turn_base.json:1: id 'mt_0': malformed ground truth"):
        load_category(tmp_path, "multi_turn_base")


def test_java_types_reach_the_model_as_strings() -> None:
    from aiagents.evals.bfcl import bfcl_tool_definitions

    (tool,), back = bfcl_tool_definitions([JAVA_FN])
    assert back == {"Map_put": "Map.put"}
    assert tool.parameters_json_schema["properties"] == {"key": {"type": "string"}, "value": {"type": "string"}}
