"""Tool conventions: validated arguments and errors go back to the model as retries; timeouts; approval."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiagents.tools.base import ToolError, make_toolset, retry_on
from pydantic_ai import Agent
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel

from aiagents.trajectory import Trajectory


def scripted(*responses: ModelResponse) -> FunctionModel:
    """A model that returns `responses` in order and records what each request saw."""
    seen: list[list[ModelMessage]] = []

    def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(list(messages))
        return responses[len(seen) - 1]

    model = FunctionModel(fn)
    model.seen = seen  # type: ignore[attr-defined]
    return model


def add(a: int, b: int = 1) -> int:
    """Add two numbers.

    Args:
        a: First number.
        b: Second number.
    """
    return a + b


class NotFound(Exception):
    pass


@retry_on(NotFound)
def lookup(key: str) -> str:
    """Look up a key.

    Args:
        key: The key.
    """
    if key == "missing":
        raise NotFound(f"no entry {key!r}; try 'a'")
    if key == "bad":
        raise ToolError("bad key")
    return f"value of {key}"


def _retries(messages: list[ModelMessage]) -> list[Any]:
    """Parts that sent an error back to the model (pydantic-ai 2.x: tool returns with outcome 'retried')."""
    return [
        p
        for m in messages
        if isinstance(m, ModelRequest)
        for p in m.parts
        if isinstance(p, RetryPromptPart) or (isinstance(p, ToolReturnPart) and p.outcome == "retried")
    ]


def test_schema_comes_from_signature_and_docstring() -> None:
    toolset = make_toolset([add], id="t")
    tool = toolset.tools["add"]
    schema = tool.function_schema.json_schema
    assert tool.description == "Add two numbers."
    assert schema["required"] == ["a"]
    assert schema["properties"]["a"] == {"description": "First number.", "type": "integer"}
    assert schema["properties"]["b"]["default"] == 1


def test_invalid_arguments_are_sent_back_as_retry_then_the_run_continues() -> None:
    model = scripted(
        ModelResponse(parts=[ToolCallPart("add", {"a": "not a number"})]),
        ModelResponse(parts=[ToolCallPart("add", {"a": 2, "b": 3})]),
        ModelResponse(parts=[TextPart("5")]),
    )
    result = Agent(model, toolsets=[make_toolset([add], id="t")]).run_sync("add")
    assert result.output == "5"
    retry = _retries(result.all_messages())
    assert len(retry) == 1 and retry[0].tool_name == "add"
    assert retry[0].content[0]["loc"] == ["a"] and retry[0].content[0]["type"] == "int_parsing"
    traj = Trajectory.from_messages(result.all_messages())
    results = traj.tool_results()
    assert [(r.error, r.retry) for r in results] == [(True, True), (False, False)]
    assert results[1].content == 5


def test_listed_exceptions_and_tool_error_become_retry_prompts() -> None:
    model = scripted(
        ModelResponse(parts=[ToolCallPart("lookup", {"key": "missing"})]),
        ModelResponse(parts=[ToolCallPart("lookup", {"key": "bad"})]),
        ModelResponse(parts=[ToolCallPart("lookup", {"key": "a"})]),
        ModelResponse(parts=[TextPart("done")]),
    )
    toolset = make_toolset([lookup], id="t", max_retries=3)
    result = Agent(model, toolsets=[toolset]).run_sync("go")
    assert [r.content for r in _retries(result.all_messages())] == ["no entry 'missing'; try 'a'", "bad key"]
    assert Trajectory.from_messages(result.all_messages()).tool_results()[-1].content == "value of a"
    assert lookup.__name__ == "lookup" and "Look up a key." in (lookup.__doc__ or "")


def test_a_tool_failing_past_its_retries_fails_the_run() -> None:
    from pydantic_ai import UnexpectedModelBehavior

    model = scripted(*[ModelResponse(parts=[ToolCallPart("lookup", {"key": "bad"})])] * 3)
    with pytest.raises(UnexpectedModelBehavior, match="exceeded max retries count of 1"):
        Agent(model, toolsets=[make_toolset([lookup], id="t", max_retries=1)]).run_sync("go")


async def slow(seconds: float) -> str:
    """Sleep.

    Args:
        seconds: How long.
    """
    await asyncio.sleep(seconds)
    return "woke"


def test_a_slow_tool_times_out_and_the_model_is_told() -> None:
    model = scripted(
        ModelResponse(parts=[ToolCallPart("slow", {"seconds": 5})]),
        ModelResponse(parts=[ToolCallPart("slow", {"seconds": 0})]),
        ModelResponse(parts=[TextPart("ok")]),
    )
    toolset = make_toolset([slow], id="t", timeouts={"slow": 0.2})
    import time

    t0 = time.perf_counter()
    result = Agent(model, toolsets=[toolset]).run_sync("go")
    assert time.perf_counter() - t0 < 2
    assert [r.content for r in _retries(result.all_messages())] == ["Timed out after 0.2 seconds."]
    assert Trajectory.from_messages(result.all_messages()).tool_results()[-1].content == "woke"


def test_approval_names_must_exist() -> None:
    with pytest.raises(ValueError, match="not in the toolset: \\['nope'\\]"):
        make_toolset([add], id="t", approval=["nope"])


def test_approval_marks_the_tool() -> None:
    toolset = make_toolset([add, lookup], id="t", approval=["add"])
    flags: dict[str, Any] = {n: t.requires_approval for n, t in toolset.tools.items()}
    assert flags == {"add": True, "lookup": False}


def test_toolsets_rebuilt_per_run_share_schemas_but_call_their_own_functions() -> None:
    """`make_toolset` reuses a tool's schema for the same function rebuilt over new state (a closure per run),
    never for a different function, docstring or default."""
    from aiagents.tools.environment import ToolCaller

    def toolset_over(state: dict[str, int], doc: str = "Add to the counter.") -> Any:
        def add(n: int) -> int:
            """Add to the counter.

            Args:
                n: How much to add.
            """
            state["count"] += n
            return state["count"]

        add.__doc__ = add.__doc__.replace("Add to the counter.", doc)  # type: ignore[union-attr]
        return make_toolset([add], id="counter")

    first, second = {"count": 0}, {"count": 100}
    a, b = toolset_over(first), toolset_over(second)
    assert a.tools["add"].function_schema is not b.tools["add"].function_schema
    assert a.tools["add"].function_schema.validator is b.tools["add"].function_schema.validator  # built once
    assert asyncio.run(ToolCaller(a).call("add", {"n": "2"})) == "2"
    assert asyncio.run(ToolCaller(b).call("add", {"n": 1})) == "101"
    assert first == {"count": 2} and second == {"count": 101}
    assert "invalid arguments for add" in asyncio.run(ToolCaller(a).call("add", {"n": "two"}))
    other = toolset_over({"count": 0}, doc="Increase the tally.")
    assert other.tools["add"].tool_def.description.startswith("Increase the tally.")
