"""Every evaluator against hand-computed values, called directly and inside a pydantic-evals Dataset."""

from __future__ import annotations

import math

import pytest
from aiagents.evals import (
    Case,
    ContainsText,
    Dataset,
    Efficiency,
    ExactMatch,
    ExpectedCall,
    FieldsMatch,
    NumericTolerance,
    RegexMatch,
    RetrievalMetrics,
    StepwiseMatch,
    ToolCallsMatch,
    make_context,
)
from pydantic import BaseModel
from pydantic_evals.evaluators import EvaluationReason

from aiagents.trajectory import ModelTurn, ToolCall, ToolResult, Trajectory, Usage


def run(ev, output, **kw):
    return ev.evaluate_sync(make_context(output, **kw))


# --- output ---------------------------------------------------------------------------------------------


def test_exact_contains_regex() -> None:
    assert run(ExactMatch(), " Paris ", expected_output="Paris").value is True
    assert run(ExactMatch(), "paris", expected_output="Paris").reason == "expected 'Paris', got 'paris'"
    assert run(ExactMatch(case_sensitive=False), "paris", expected_output="Paris").value is True
    assert run(ContainsText(), "Refunds take 14 Days.", expected_output=["14 days", "refund"]).value is True
    r = run(ContainsText(expected=["14 days", "30 days"]), "14 days")
    assert (r.value, r.reason) == (False, "missing 1 of 2: ['30 days']")
    assert run(RegexMatch(pattern=r"\d+ days"), "in 14 days").reason == "matched '14 days'"
    assert run(RegexMatch(pattern=r"\d+", full=True), "14 days").value is False


@pytest.mark.parametrize(
    ("output", "expected", "abs_tol", "rel_tol", "ok"),
    [
        ("about 3.14", 3.14159, 0.01, 0.0, True),
        ("about 3.12", 3.14159, 0.01, 0.0, False),
        (105, 100, 0.0, 0.05, True),  # 5 <= 0.05 * 105
        (106, 100, 0.0, 0.05, False),  # 6 > 0.05 * 106 = 5.3
        ("1,250 units", 1250, 0.0, 0.0, True),
        ("none", 1, 1.0, 0.0, False),
    ],
)
def test_numeric_tolerance(output, expected, abs_tol, rel_tol, ok) -> None:
    assert run(NumericTolerance(abs_tol=abs_tol, rel_tol=rel_tol), output, expected_output=expected).value is ok


class Answer(BaseModel):
    answer: str
    found_answer: bool
    confidence: float
    references: list[str]


def test_fields_match_per_field_scores() -> None:
    got = Answer(answer="Refunds take 14 days.", found_answer=True, confidence=0.82, references=["a.md"])
    want = {"answer": "14 days", "found_answer": True, "confidence": 0.9, "references": ["b.md"]}
    ev = FieldsMatch(fields={"answer": "contains", "confidence": "numeric:0.1"})
    res = run(ev, got, expected_output=want)
    assert res["fields.answer"].value is True
    assert res["fields.found_answer"].value is True
    assert res["fields.confidence"].value is True  # |0.82 - 0.9| = 0.08 <= 0.1
    assert res["fields.references"].value is False
    assert res["fields"].value == pytest.approx(3 / 4)
    assert res["fields_pass"].value is False
    assert res["fields"].reason == "3/4 fields match; wrong: ['references']"
    # JSON text output, case-insensitive comparator, nested path, missing field
    res = run(
        FieldsMatch(fields={"city": "case_insensitive", "geo.lat": "numeric:0.5"}, only_listed=True),
        '{"city": "PARIS", "geo": {"lat": 48.6}}',
        expected_output={"city": "Paris", "geo": {"lat": 48.85}},
    )
    assert (res["fields.city"].value, res["fields.geo.lat"].value, res["fields"].value) == (True, True, 1.0)
    res = run(FieldsMatch(), {"a": 1}, expected_output={"a": 1, "b": 2})
    assert res["fields.b"].reason == "b: missing from output" and res["fields"].value == 0.5


# --- retrieval --------------------------------------------------------------------------------------------


def test_retrieval_metrics_hand_computed() -> None:
    hits = [{"id": f"{d}#0", "document_id": d} for d in ["d3", "d1", "d9", "d2"]]
    res = run(RetrievalMetrics(k=3), hits, metadata={"expected_documents": {"d1": 1, "d2": 1}})
    assert res["hit@3"].value == 1.0
    assert res["mrr@3"].value == 0.5  # first relevant at rank 2
    assert res["recall@3"].value == 0.5  # d1 of {d1, d2}
    # DCG = 1/log2(3); IDCG = 1 + 1/log2(3)
    assert res["ndcg@3"].value == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    res = run(RetrievalMetrics(k=4, id_field="id", min_ndcg=0.9), hits, metadata={"expected_documents": ["d2#0"]})
    assert res["mrr@4"].value == 0.25 and res["retrieval_pass"].value is False


# --- trajectories -----------------------------------------------------------------------------------------


def traj(*calls: tuple[str, dict, object], error_at: int | None = None) -> Trajectory:
    steps: list = []
    for i, (name, args, content) in enumerate(calls):
        c = ToolCall(tool_name=name, args=args, call_id=f"c{i}")
        steps += [ModelTurn(tool_calls=[c], usage=Usage(requests=1, input_tokens=100, output_tokens=10)), c]
        steps.append(ToolResult(call_id=f"c{i}", tool_name=name, content=content, error=i == error_at))
    steps.append(ModelTurn(text="done", usage=Usage(requests=1, input_tokens=150, output_tokens=20)))
    return Trajectory(
        steps=steps, usage=Usage(requests=len(calls) + 1, input_tokens=450, output_tokens=50), duration_s=2.5
    )


REF = [
    ExpectedCall(tool="search", args={"query": "refunds"}),
    ExpectedCall(tool="fetch", args={"id": "refunds.md"}),
]


def test_tool_calls_match_reads_case_metadata() -> None:
    t = traj(("fetch", {"id": "refunds.md"}, "text"), ("search", {"query": "refunds"}, []))
    meta = {"expected_trajectory": REF}
    strict = run(ToolCallsMatch(), t, metadata=meta)
    assert strict["tool_calls_strict"].value is False
    assert strict["tool_calls_strict"].reason == "call #1: tool 'fetch' instead of 'search'"
    assert strict["tool_calls_strict_score"].value == 0.0
    assert run(ToolCallsMatch(mode="unordered"), t, metadata=meta)["tool_calls_unordered"].value is True
    res = run(ToolCallsMatch(mode="superset", arg_mode="ignore"), traj(("search", {"q": 1}, [])), metadata=meta)
    assert res["tool_calls_superset_score"].value == 0.5
    assert run(ToolCallsMatch(), "not a trajectory", metadata=meta)["tool_calls_strict"].value is False


def test_stepwise_names_first_wrong_step() -> None:
    t = traj(
        ("search", {"query": "refunds"}, [{"id": "x#0", "document_id": "shipping.md"}]),
        ("fetch", {"id": "refunds.md"}, "boom"),
        error_at=1,
    )
    res = run(
        StepwiseMatch(retrieval_tools=("search",)),
        t,
        metadata={"expected_trajectory": REF, "expected_documents": {"refunds.md": 1}},
    )
    # step 1: right_tool, right_args, executed, relevant_retrieval=False -> 3/4; step 2: executed=False -> 2/3
    assert res["steps_score"].value == pytest.approx((3 / 4 + 2 / 3) / 2)
    assert res["steps_first_bad_step"] == 1
    assert res["steps"].value is False
    assert "first wrong: step 1 ('search'): retrieved nothing relevant" in res["steps"].reason
    # stopping early: the missing expected step scores 0
    res = run(StepwiseMatch(), traj(("search", {"query": "refunds"}, [])), metadata={"expected_trajectory": REF})
    assert res["steps_score"].value == pytest.approx((1.0 + 0.0) / 2)
    assert res["steps_first_bad_step"] == 2


def test_efficiency_budgets() -> None:
    t = traj(("search", {"query": "refunds"}, []), ("fetch", {"id": "a"}, "x"))
    ev = Efficiency(
        max_steps=3,
        max_tool_calls=1,
        max_tokens=600,
        max_cost_usd=0.001,
        input_price_per_mtok=2.0,
        output_price_per_mtok=8.0,
    )
    res = run(ev, t)
    assert (res["steps"], res["tool_calls"], res["tokens"]) == (3, 2, 500)
    assert res["cost_usd"] == pytest.approx((450 * 2.0 + 50 * 8.0) / 1e6)  # 0.0013
    assert res["latency_s"] == 2.5
    assert res["within_budget"].value is False
    assert res["within_budget"].reason == "tool_calls 2 > 1; cost_usd 0.0013 > 0.001"
    assert run(Efficiency(max_latency_s=3.0), t)["within_budget"].value is True


async def test_evaluators_run_inside_a_pydantic_evals_dataset() -> None:
    ds = Dataset(
        name="mini",
        cases=[
            Case(name="ok", inputs="refunds", expected_trajectory=REF[:1]),
            Case(name="bad", inputs="shipping", expected_trajectory=REF[:1]),
        ],
    )

    async def task(q: str) -> Trajectory:
        return traj(("search", {"query": q}, []))

    report = await ds.to_pydantic_evals([ToolCallsMatch()]).evaluate(task, progress=False)
    by_name = {c.name: c for c in report.cases}
    assert by_name["ok"].assertions["tool_calls_strict"].value is True
    assert by_name["bad"].assertions["tool_calls_strict"].value is False
    assert by_name["bad"].scores["tool_calls_strict_score"].value == 0.0


def test_evaluation_reason_type() -> None:
    assert isinstance(run(ExactMatch(expected="a"), "a"), EvaluationReason)
