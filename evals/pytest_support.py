"""Datasets as parametrised pytest tests: one test per case, the evaluators' reasons as the failure message.

    from aiagents.evals import Dataset, ContainsText
    from aiagents.evals.pytest_support import assert_case, parametrize_cases

    DATASET = Dataset.load("tests/data/answers.yaml")

    @parametrize_cases(DATASET)
    def test_answers(case):
        assert_case(case, my_task(case.inputs), [ContainsText()])

Cases tagged `real_model` get the `real_model` marker: the aiagents pytest plugin (`aiagents.evals.pytest_plugin`)
skips them on the offline baseline and runs them with `--aiagents-model MODEL`; deselect them with
`-m "not real_model"`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiagents.evals.datasets import Case, Dataset
from aiagents.evals.evaluators.context import EXPECTED_DOCUMENTS_KEY, EXPECTED_TRAJECTORY_KEY, make_context
from pydantic_evals.evaluators import EvaluationReason, Evaluator

__all__ = ["CaseFailed", "assert_case", "evaluate_case", "parametrize_cases", "real_model_available"]

REAL_MODEL_TAG = "real_model"


class CaseFailed(AssertionError):
    """A case failed one or more evaluators (the message lists each failure with its reason)."""


def evaluate_case(case: Case, output: Any, evaluators: Sequence[Evaluator[Any, Any, Any]], *, duration: float = 0.0):
    """Run `evaluators` on one output: {result name: value or EvaluationReason}."""
    ctx = make_context(
        output,
        expected_output=case.expected_output,
        inputs=case.inputs,
        metadata={
            **case.metadata,
            EXPECTED_DOCUMENTS_KEY: case.expected_documents,
            EXPECTED_TRAJECTORY_KEY: case.expected_trajectory,
        },
        duration=duration,
        name=case.name,
    )
    results: dict[str, Any] = {}
    for ev in evaluators:
        out = ev.evaluate_sync(ctx)
        if isinstance(out, Mapping):
            results.update(out)
        else:
            results[ev.get_default_evaluation_name()] = out
    return results


def assert_case(
    case: Case,
    output: Any,
    evaluators: Sequence[Evaluator[Any, Any, Any]],
    *,
    min_scores: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Fail (with every failing evaluator's reason) when a boolean result is False or a score named in
    `min_scores` is below its minimum; returns the results otherwise."""
    results = evaluate_case(case, output, evaluators)
    failures: list[str] = []
    for name, res in results.items():
        value, reason = (res.value, res.reason) if isinstance(res, EvaluationReason) else (res, None)
        if isinstance(value, bool) and not value:
            failures.append(f"{name}: {reason or 'failed'}")
        elif min_scores and name in min_scores and isinstance(value, int | float) and value < min_scores[name]:
            failures.append(f"{name}: {value:.3f} < {min_scores[name]} ({reason or ''})")
    if failures:
        raise CaseFailed(f"case {case.name!r} failed:\n  " + "\n  ".join(failures))
    return results


def real_model_available() -> bool:
    """True when a provider key is configured (what `real_model` tests need)."""
    from aiagents.settings import get_settings

    s = get_settings()
    return any(getattr(s, k, None) is not None for k in ("openai_api_key", "anthropic_api_key"))


def parametrize_cases(dataset: Dataset, argname: str = "case") -> Callable[[Any], Any]:
    """`@pytest.mark.parametrize` over the dataset's cases, ids = case names; `real_model`-tagged
    cases are marked `real_model`, which the aiagents pytest plugin skips while the run's model is the offline
    baseline (`pytest --aiagents-model openai:gpt-4.1-mini` runs them)."""
    import pytest

    params = [
        pytest.param(c, id=c.name, marks=[pytest.mark.real_model] if REAL_MODEL_TAG in c.tags else [])
        for c in dataset.cases
    ]
    return pytest.mark.parametrize(argname, params)
