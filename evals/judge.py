"""LLM-as-judge: versioned rubric prompts run through `Task` with a validated `JudgeVerdict` output, an
evaluator that runs them inside our runner or a pydantic-evals `Dataset`, and the judge's agreement with
human labels (accuracy and Cohen's kappa).

Rubrics are ordinary prompts (`aiagents/prompts/library/judge-*.md`): versioned by content, taking the
variables `question`, `output`, `reference`, `rubric`. Any model works; offline, the judge runs on the
offline baseline model, whose verdicts are heuristic (a baseline, not a real judge).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field
from pydantic_ai.models import Model
from pydantic_evals.evaluators import EvaluationReason, Evaluator, EvaluatorContext

from aiagents.errors import UserError
from aiagents.tasks import Task

__all__ = ["Agreement", "JudgeEvaluator", "JudgeVerdict", "judge_agreement", "DEFAULT_RUBRIC"]

DEFAULT_RUBRIC = "judge-correctness"


class JudgeVerdict(BaseModel):
    """A judge's verdict on one output (validated: a malformed verdict makes the Task retry)."""

    passed: bool = Field(description="Whether the output meets the rubric.")
    score: float = Field(ge=0.0, le=1.0, description="Quality from 0 (bad) to 1 (perfect).")
    reasoning: str = Field(description="One or two sentences explaining the verdict.")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    from aiagents.evals.runner.targets import to_jsonable

    return json.dumps(to_jsonable(value), ensure_ascii=False, sort_keys=True)


@dataclass(repr=False)
class JudgeEvaluator(Evaluator[Any, Any, Any]):
    """Grades `ctx.output` with a rubric prompt on a model; gives `<name>` (pass/fail with the reasoning)
    and `<name>_score` (0..1).

    `rubric` is a prompt name (default `judge-correctness`) or a `Task` already bound to a rubric;
    `criteria` is passed as the prompt's `rubric` variable; `model` is any model name or pydantic-ai model.
    """

    rubric: str | Task[JudgeVerdict] = DEFAULT_RUBRIC
    model: str | Model | None = None
    criteria: str = ""
    prompt_version: str | None = None
    evaluation_name: str | None = None
    verdicts: list[JudgeVerdict] = field(default_factory=list, compare=False)
    """Every verdict this evaluator gave, in order (for agreement studies)."""

    def __post_init__(self) -> None:
        self._task = (
            self.rubric
            if isinstance(self.rubric, Task)
            else Task(self.rubric, JudgeVerdict, version=self.prompt_version, retries=2)
        )
        declared = self._task.prompt.output_type()
        if self._task.output_type is not JudgeVerdict or declared not in (None, JudgeVerdict):
            raise UserError(
                f"Judge prompt {self._task.prompt.name!r} must have output aiagents.evals.judge:JudgeVerdict."
            )

    @property
    def task(self) -> Task[JudgeVerdict]:
        return self._task

    def get_default_evaluation_name(self) -> str:
        return self.evaluation_name or self._task.prompt.name.removeprefix("judge-") or "judge"

    async def judge(self, *, question: Any, output: Any, reference: Any = None) -> JudgeVerdict:
        """One verdict (the Task validates it and retries malformed ones)."""
        result = await self._task.run(
            {
                "question": _text(question),
                "output": _text(output),
                "reference": _text(reference),
                "rubric": self.criteria,
            },
            model=self.model,
        )
        self.verdicts.append(result.output)
        return result.output

    async def evaluate(self, ctx: EvaluatorContext[Any, Any, Any]) -> dict[str, Any]:
        v = await self.judge(question=ctx.inputs, output=ctx.output, reference=ctx.expected_output)
        name = self.get_default_evaluation_name()
        return {name: EvaluationReason(v.passed, v.reasoning), f"{name}_score": EvaluationReason(v.score, v.reasoning)}


@dataclass(kw_only=True)
class Agreement:
    """How well a judge agrees with human labels."""

    n: int
    """Pairs compared."""
    accuracy: float
    """Share of pairs where judge and human agree."""
    kappa: float
    """Cohen's kappa: agreement corrected for chance (1 perfect, 0 chance level, < 0 worse than chance)."""
    confusion: dict[str, int]
    """tp (both pass), tn (both fail), fp (judge pass, human fail), fn (judge fail, human pass)."""


def judge_agreement(verdicts: Sequence[JudgeVerdict | bool], labels: Sequence[bool]) -> Agreement:
    """Accuracy and Cohen's kappa of judge pass/fail against human pass/fail labels (same order).

    kappa = (p_o - p_e) / (1 - p_e), p_e = p_judge_pass * p_human_pass + p_judge_fail * p_human_fail;
    when p_e == 1 (both always say the same single class) kappa is 1.0 if they agree everywhere.
    """
    if len(verdicts) != len(labels):
        raise UserError(f"judge_agreement needs one label per verdict: {len(verdicts)} verdicts, {len(labels)} labels")
    if not verdicts:
        raise UserError("judge_agreement needs at least one verdict")
    j = [v.passed if isinstance(v, JudgeVerdict) else bool(v) for v in verdicts]
    h = [bool(x) for x in labels]
    n = len(j)
    tp = sum(a and b for a, b in zip(j, h, strict=True))
    tn = sum((not a) and (not b) for a, b in zip(j, h, strict=True))
    fp = sum(a and not b for a, b in zip(j, h, strict=True))
    fn = n - tp - tn - fp
    p_o = (tp + tn) / n
    pj, ph = (tp + fp) / n, (tp + fn) / n
    p_e = pj * ph + (1 - pj) * (1 - ph)
    kappa = (1.0 if p_o == 1.0 else 0.0) if p_e == 1.0 else (p_o - p_e) / (1 - p_e)
    return Agreement(n=n, accuracy=p_o, kappa=kappa, confusion={"tp": tp, "tn": tn, "fp": fp, "fn": fn})
