"""Trajectory: built from pydantic-ai messages of a scripted run, saved and loaded without loss."""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from pydantic_ai import Agent, ModelRetry
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from aiagents.trajectory import (
    FinalOutput,
    ModelTurn,
    ToolCall,
    ToolResult,
    Trajectory,
    TrajectoryFileError,
    Usage,
    UserPrompt,
)


class Answer(BaseModel):
    answer: str
    confidence: float


def _agent() -> Agent[None, Answer]:
    def policy(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        n = sum(isinstance(m, ModelResponse) for m in messages)
        if n == 0:
            return ModelResponse(
                parts=[
                    TextPart("searching"),
                    ToolCallPart("search", {"query": "refunds", "k": 2}, tool_call_id="c1"),
                    ToolCallPart("flaky", {}, tool_call_id="c2"),
                ]
            )
        return ModelResponse(
            parts=[ToolCallPart("final_result", {"answer": "14 days", "confidence": 0.9}, tool_call_id="c3")]
        )

    agent = Agent(FunctionModel(policy), output_type=Answer)

    @agent.tool_plain
    def search(query: str, k: int = 5) -> list[dict[str, str]]:
        return [{"id": "refunds.md#0", "text": "14 days"}][:k]

    @agent.tool_plain
    def flaky() -> str:
        raise ModelRetry("try again later")

    return agent


def test_from_messages_orders_steps_and_sums_usage() -> None:
    result = _agent().run_sync("How long do refunds take?")
    t = Trajectory.from_messages(result.all_messages(), output=result.output)
    kinds = [s.kind for s in t.steps]
    assert kinds == [
        "user_prompt",
        "model_turn",
        "tool_call",
        "tool_call",
        "tool_result",
        "tool_result",
        "model_turn",
        "tool_call",
        "final_output",
    ]
    assert isinstance(t.steps[0], UserPrompt) and t.steps[0].text == "How long do refunds take?"
    turn = t.steps[1]
    assert isinstance(turn, ModelTurn)
    assert turn.text == "searching"
    assert [c.tool_name for c in turn.tool_calls] == ["search", "flaky"]
    # the output tool is not a "real" tool call
    assert t.tool_calls() == [
        ToolCall(tool_name="search", args={"query": "refunds", "k": 2}, call_id="c1"),
        ToolCall(tool_name="flaky", args={}, call_id="c2"),
    ]
    assert [c.tool_name for c in t.tool_calls(include_output_tools=True)] == [
        "search",
        "flaky",
        "final_result",
    ]
    ok, failed = t.tool_results()
    assert ok == ToolResult(
        call_id="c1",
        tool_name="search",
        content=[{"id": "refunds.md#0", "text": "14 days"}],
        timestamp=ok.timestamp,
    )
    assert failed.error and failed.retry and "try again later" in str(failed.content)
    assert t.result_of(t.tool_calls()[0]) is ok
    final = t.steps[-1]
    assert isinstance(final, FinalOutput) and final.output == {"answer": "14 days", "confidence": 0.9}
    assert final.tool_name == "final_result"
    assert t.output == {"answer": "14 days", "confidence": 0.9}
    turns = t.model_turns()
    assert t.usage.requests == 2
    assert t.usage.input_tokens == sum(m.usage.input_tokens for m in turns) > 0
    assert t.usage.output_tokens == sum(m.usage.output_tokens for m in turns) > 0
    assert t.run_id == result.run_id
    assert t.duration_s is not None and t.duration_s >= 0


def test_json_round_trip_is_lossless(tmp_path) -> None:
    result = _agent().run_sync("How long do refunds take?")
    t = Trajectory.from_messages(result.all_messages(), output=result.output, trace_id="ab" * 16)
    t.metadata["user"] = "u1"
    again = Trajectory.from_json(t.to_json())
    assert again == t
    path = tmp_path / "t.json"
    t.save(path)
    assert Trajectory.load(path) == t
    assert isinstance(again.steps[1], ModelTurn) and isinstance(again.steps[1].tool_calls[0], ToolCall)


def test_text_output_without_structured_output() -> None:
    def policy(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[TextPart("plain answer")])

    result = Agent(FunctionModel(policy)).run_sync("hi")
    t = Trajectory.from_messages(result.all_messages())
    assert t.output == "plain answer"
    assert t.tool_calls() == []
    assert t.steps[-1] == FinalOutput(output="plain answer")


def test_usage_addition_and_cost() -> None:
    a = Usage(requests=1, input_tokens=10, output_tokens=5, cost_usd=0.25)
    b = Usage(requests=2, input_tokens=1, output_tokens=2)
    assert a + b == Usage(requests=3, input_tokens=11, output_tokens=7, cost_usd=0.25)
    assert (b + b).cost_usd is None
    assert (a + b).total_tokens == 18


def test_load_errors_name_the_file(tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"steps": [{"kind": "nope"}]}')
    with pytest.raises(TrajectoryFileError, match="bad.json"):
        Trajectory.load(bad)
    with pytest.raises(TrajectoryFileError, match="no such trajectory file"):
        Trajectory.load(tmp_path / "missing.json")
