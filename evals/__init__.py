"""Evals: datasets, evaluators (output, retrieval, trajectory, step, efficiency), tool-call matching,
the BFCL checker and pytest integration. The runner, LLM-as-judge and compare/gate build on these."""

from aiagents.evals.compare import Comparison, compare_runs, load_run
from aiagents.evals.datasets import Case, Dataset, DatasetFileError, Provenance
from aiagents.evals.evaluator_specs import EVALUATOR_NAMES, build_evaluators
from aiagents.evals.evaluators import (
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
from aiagents.evals.judge import Agreement, JudgeEvaluator, JudgeVerdict, judge_agreement
from aiagents.evals.matching import ArgMode, ExpectedCall, MatchMode, TrajectoryMatchResult, compare_args, match_calls
from aiagents.evals.phoenix import flush_annotation_queue, push_dataset, push_experiment, send_annotations
from aiagents.evals.runner import EvalRun, Target, as_target, run_eval, run_eval_sync

__all__ = [
    # evaluators declared in dataset files
    "build_evaluators",
    "EVALUATOR_NAMES",
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
    # judge
    "JudgeVerdict",
    "JudgeEvaluator",
    "Agreement",
    "judge_agreement",
    # runner
    "run_eval",
    "run_eval_sync",
    "EvalRun",
    "Target",
    "as_target",
    # compare and gate
    "Comparison",
    "compare_runs",
    "load_run",
    # Phoenix
    "send_annotations",
    "flush_annotation_queue",
    "push_dataset",
    "push_experiment",
]
