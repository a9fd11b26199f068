"""The eval runner: a target (task, RAG pipeline, agent or any async callable) over a dataset, judged,
cached, traced, written per case and summarised."""

from aiagents.evals.runner.catalog import RunEntry, list_runs, resolve_run
from aiagents.evals.runner.results import (
    CaseResult,
    MetricResult,
    MetricSummary,
    ResultsWriter,
    RunSummary,
    load_results,
    metric_results,
    summarise,
)
from aiagents.evals.runner.run import (
    EvalRun,
    EvalRunError,
    EvalRunInterrupted,
    ResumeMismatchError,
    default_out_dir,
    git_commit,
    run_eval,
    run_eval_sync,
    runs_dir,
)
from aiagents.evals.runner.targets import Target, TargetOutput, as_target, task_target, to_jsonable

__all__ = [
    # running
    "run_eval",
    "run_eval_sync",
    "EvalRun",
    "EvalRunError",
    "EvalRunInterrupted",
    "ResumeMismatchError",
    "default_out_dir",
    "git_commit",
    # kept runs
    "runs_dir",
    "list_runs",
    "resolve_run",
    "RunEntry",
    # targets
    "Target",
    "TargetOutput",
    "as_target",
    "task_target",
    "to_jsonable",
    # results
    "CaseResult",
    "MetricResult",
    "MetricSummary",
    "RunSummary",
    "ResultsWriter",
    "load_results",
    "metric_results",
    "summarise",
]
