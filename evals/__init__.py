"""Evals: datasets, evaluators (output, retrieval, trajectory, step, efficiency), tool-call matching,
the BFCL checker and pytest integration. The runner, LLM-as-judge and compare/gate build on these."""

from evals.datasets import Case, Dataset, DatasetFileError, Provenance
from evals.evaluators import (
    ContainsText,
    Efficiency,
    ExactMatch,
    FieldsMatch,
    NumericTolerance,
    RegexMatch,
    RetrievalMetrics,
    StepReport,
    StepwiseMatch,
    ToolCallsMatch,
    judge_steps,
    make_context,
)
from evals.matching import ArgMode, ExpectedCall, MatchMode, TrajectoryMatchResult, compare_args, match_calls

__all__ = [
    # datasets
    "Case",
    "Dataset",
    "DatasetFileError",
    "Provenance",
    # matching
    "ArgMode",
    "MatchMode",
    "ExpectedCall",
    "TrajectoryMatchResult",
    "compare_args",
    "match_calls",
    # evaluators
    "ExactMatch",
    "ContainsText",
    "RegexMatch",
    "NumericTolerance",
    "FieldsMatch",
    "RetrievalMetrics",
    "ToolCallsMatch",
    "StepwiseMatch",
    "StepReport",
    "judge_steps",
    "Efficiency",
    "make_context",
]
