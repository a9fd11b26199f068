"""LLM-as-judge on scripted FunctionModels with hand-set verdicts; agreement metrics by hand."""

from __future__ import annotations

import pytest
from aiagents.evals import Case, Dataset
from aiagents.evals.judge import JudgeEvaluator, JudgeVerdict, judge_agreement
from aiagents.evals.runner import run_eval
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from aiagents.errors import UserError


def _judge_model(verdicts: list[dict], seen: list[str]) -> FunctionModel:
    """Answers each judge request with the next verdict; a request that is a retry gets the next one too."""
    it = iter(verdicts)

    def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(str(messages[-1].parts[-1].content)[:200])
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, next(it))])

    return FunctionModel(fn, model_name="judge-script")


async def test_judge_verdicts_become_metrics_with_reasoning() -> None:
    seen: list[str] = []
    model = _judge_model(
        [
            {"passed": True, "score": 0.9, "reasoning": "matches the reference"},
            {"passed": False, "score": 0.1, "reasoning": "wrong city"},
        ],
        seen,
    )
    judge = JudgeEvaluator(model=model)
    ds = Dataset(
        name="qa",
        cases=[
            Case(name="ok", inputs="capital of France?", expected_output="Paris"),
            Case(name="bad", inputs="capital of Spain?", expected_output="Madrid"),
        ],
    )

    async def target(q: str) -> str:
        return "Paris"

    run = await run_eval(ds, target, [judge], concurrency=1, out_dir="", progress=False)
    ok, bad = run.results
    assert ok.metrics["correctness"].passed is True and ok.metrics["correctness"].reason == "matches the reference"
    assert ok.metrics["correctness_score"].score == 0.9 and ok.metrics["correctness"].kind == "LLM"
    assert bad.metrics["correctness"].passed is False and bad.metrics["correctness_score"].score == 0.1
    assert run.summary.metrics["correctness"].pass_rate == 0.5
    assert "capital of France?" in seen[0] and "Paris" in seen[0]  # the rubric saw question, output, reference
    assert [v.passed for v in judge.verdicts] == [True, False]


async def test_invalid_verdict_is_retried_by_the_task() -> None:
    seen: list[str] = []
    model = _judge_model(
        [
            {"passed": True, "score": 7, "reasoning": "score out of range"},  # fails validation (score <= 1)
            {"passed": True, "score": 0.7, "reasoning": "fine"},
        ],
        seen,
    )
    judge = JudgeEvaluator(model=model)
    v = await judge.judge(question="q", output="a", reference="a")
    assert v == JudgeVerdict(passed=True, score=0.7, reasoning="fine")
    assert len(seen) == 2


def test_judge_rubric_must_produce_verdicts() -> None:
    with pytest.raises(UserError, match="JudgeVerdict"):
        JudgeEvaluator(rubric="listing-attributes")


def test_agreement_hand_computed() -> None:
    # judge:  P P P F F F P F    human: P P F F F P P F
    judge = [True, True, True, False, False, False, True, False]
    human = [True, True, False, False, False, True, True, False]
    a = judge_agreement(judge, human)
    # tp 3, tn 3, fp 1, fn 1 -> p_o 6/8 = 0.75; p_judge_pass 4/8, p_human_pass 4/8 -> p_e 0.5; kappa 0.5
    assert a.confusion == {"tp": 3, "tn": 3, "fp": 1, "fn": 1}
    assert a.accuracy == 0.75 and a.kappa == pytest.approx(0.5)


def test_agreement_skewed_and_degenerate() -> None:
    # judge always passes, human passes 3 of 4: p_o 0.75, p_e = 1*0.75 + 0*0.25 = 0.75 -> kappa 0
    a = judge_agreement([JudgeVerdict(passed=True, score=1, reasoning="")] * 4, [True, True, True, False])
    assert a.accuracy == 0.75 and a.kappa == pytest.approx(0.0)
    assert judge_agreement([True, True], [True, True]).kappa == 1.0
    # perfect disagreement on balanced labels: p_o 0, p_e 0.5 -> kappa -1
    assert judge_agreement([True, False], [False, True]).kappa == pytest.approx(-1.0)
    with pytest.raises(UserError, match="one label per verdict"):
        judge_agreement([True], [True, False])


def test_offline_judge_is_a_baseline_that_returns_valid_verdicts() -> None:
    import asyncio

    v = asyncio.run(JudgeEvaluator(model="offline").judge(question="q?", output="x", reference="y"))
    assert isinstance(v, JudgeVerdict) and 0.0 <= v.score <= 1.0
