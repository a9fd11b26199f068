"""Scripted pydantic-ai models issuing given tool calls: offline tests, gold replay through an agent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

__all__ = ["gold_model", "scripted_tool_model"]

Call = tuple[str, dict[str, Any]]


def scripted_tool_model(
    rounds: Sequence[Sequence[Call]], *, final_text: str = "Done.", echo_results: bool = False
) -> FunctionModel:
    """A `FunctionModel` that sends ``rounds[i]`` as its i-th response's tool calls, then ``final_text``.

    With ``echo_results`` the final text also quotes every tool result it saw (so values a tool found
    appear in the reply, as a model would repeat them). The round is counted from the model responses
    already in the conversation, so one model serves one run.
    """
    script = [list(calls) for calls in rounds]

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        done = sum(isinstance(m, ModelResponse) for m in messages)
        if done < len(script):
            return ModelResponse(
                parts=[
                    ToolCallPart(tool_name=name, args=dict(args), tool_call_id=f"call_{done}_{i}")
                    for i, (name, args) in enumerate(script[done])
                ]
            )
        text = final_text
        if echo_results:
            results = [
                str(part.content)
                for m in messages
                for part in getattr(m, "parts", ())
                if isinstance(part, ToolReturnPart)
            ]
            text = "\n".join([final_text, *results])
        return ModelResponse(parts=[TextPart(content=text)])

    return FunctionModel(respond, model_name="scripted")


def gold_model(task: Any) -> FunctionModel:
    """A scripted model that makes the task's gold calls (``task.actions``) one per round, then echoes the results."""
    return scripted_tool_model([[(a.name, a.kwargs)] for a in task.actions], echo_results=True)
