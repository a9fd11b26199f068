"""Evaluators, each a pydantic-evals `Evaluator` (so they also run inside a `pydantic_evals.Dataset`).

LLM-as-judge evaluators are planned as a sibling module (`judge.py`) reading versioned rubric prompts.
"""

from aiagents.evals.evaluators.context import make_context, retrieved_ids, trajectory_of
from aiagents.evals.evaluators.output import (
    ContainsText,
    ExactMatch,
    FieldComparator,
    FieldsMatch,
    NumericTolerance,
    RegexMatch,
)
from aiagents.evals.evaluators.retrieval import RetrievalMetrics
from aiagents.evals.evaluators.trajectory import (
    Efficiency,
    StepJudgement,
    StepReport,
    StepwiseMatch,
    ToolCallsMatch,
    judge_steps,
)

__all__ = [
    # output
    "ExactMatch",
    "ContainsText",
    "RegexMatch",
    "NumericTolerance",
    "FieldsMatch",
    "FieldComparator",
    # retrieval
    "RetrievalMetrics",
    # trajectory
    "ToolCallsMatch",
    "StepwiseMatch",
    "StepJudgement",
    "StepReport",
    "judge_steps",
    "Efficiency",
    # context
    "make_context",
    "trajectory_of",
    "retrieved_ids",
]
