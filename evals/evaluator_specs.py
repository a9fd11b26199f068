"""Evaluators declared in a dataset file, with their options:

    evaluators:
      - ExactMatch
      - FieldsMatch: {fields: {price: "numeric:0.5", title: contains}, only_listed: true}
      - ToolCallsMatch: {mode: superset, arg_mode: ignore}
      - {evaluator: "mychecks:Politeness", args: {min_score: 0.8}}

A name is one of this package's evaluators (`aiagents.evals.evaluators`); `module:Class` is the user's own,
imported from the project folder (no `PYTHONPATH` needed). Errors name the file, the entry and what went wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiagents.evals import evaluators as builtin
from pydantic_evals.evaluators import Evaluator

from aiagents.errors import UserError
from aiagents.user_code import import_object

__all__ = ["EVALUATOR_NAMES", "build_evaluators"]

EVALUATOR_NAMES = (
    "ExactMatch", "ContainsText", "RegexMatch", "NumericTolerance", "FieldsMatch", "RetrievalMetrics",
    "ToolCallsMatch", "StepwiseMatch", "Efficiency",
)  # fmt: skip


def _one(spec: Any, where: str, near: Path | None) -> Evaluator[Any, Any, Any]:
    if isinstance(spec, str):
        name, options = spec, {}
    elif isinstance(spec, dict) and "evaluator" in spec:
        name, options = spec["evaluator"], spec.get("args") or {}
    elif isinstance(spec, dict) and len(spec) == 1:
        ((name, options),) = spec.items()
        options = options or {}
    else:
        raise UserError(f"{where}: write a name, {{Name: {{options}}}} or {{evaluator: module:Class, args: {{...}}}}")
    if not isinstance(options, dict):
        raise UserError(f"{where}: the options of {name!r} must be a mapping")
    if name in EVALUATOR_NAMES:
        cls = getattr(builtin, name)
    elif ":" in str(name):
        try:
            cls = import_object(str(name), near=near)
        except (ImportError, AttributeError) as exc:
            raise UserError(f"{where}: cannot import {name!r} ({exc})") from None
    else:
        raise UserError(f"{where}: unknown evaluator {name!r}; known: {', '.join(EVALUATOR_NAMES)} or module:Class")
    try:
        return cls(**options)  # type: ignore[no-any-return]
    except (TypeError, ValueError) as exc:
        raise UserError(f"{where}: {name}({', '.join(options)}): {exc}") from None


def build_evaluators(specs: list[Any], *, source: str = "dataset", near: Path | None = None) -> list[Any]:
    """The evaluators of `specs` (see the module docstring); `source` names the file in errors."""
    return [_one(spec, f"{source}: evaluators[{i}]", near) for i, spec in enumerate(specs)]
