"""Scripted pydantic-ai models issuing given tool calls: offline tests, gold replay through an agent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic_ai.models.function import FunctionModel

from aiagents.models import scripted_model

__all__ = ["gold_model", "scripted_tool_model"]

Call = tuple[str, dict[str, Any]]


def scripted_tool_model(
    rounds: Sequence[Sequence[Call]], *, final_text: str = "Done.", echo_results: bool = False
) -> FunctionModel:
    """A `FunctionModel` that sends ``rounds[i]`` as its i-th response's tool calls, then ``final_text``
    (`aiagents.models.scripted_model`; ``echo_results`` quotes every tool result in the final text)."""
    return scripted_model(rounds, final=final_text, echo_results=echo_results)


def gold_model(task: Any) -> FunctionModel:
    """A scripted model that makes the task's gold calls (``task.actions``) one per round, then echoes the results."""
    return scripted_tool_model([[(a.name, a.kwargs)] for a in task.actions], echo_results=True)
