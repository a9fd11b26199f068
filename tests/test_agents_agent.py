"""PromptAgent: prompt on the span, usage limits, sessions, approvals, ids on every span, OpenAI wire."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiagents.tools.base import make_toolset
from pydantic_ai import DeferredToolResults, ToolDenied
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, ToolCallPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from aiagents.agents import AgentRunFailed, Limits, PromptAgent, SessionStore, UsageLimitError
from aiagents.errors import RunError, UserError
from aiagents.prompts import PromptRegistry


def echo(text: str) -> str:
    """Echo text back.

    Args:
        text: What to echo.
    """
    return f"echo: {text}"


def refund_order(order_id: str, amount: float) -> dict[str, Any]:
    """Refund an order (a side effect: needs approval).

    Args:
        order_id: The order.
        amount: Amount in euros.
    """
    REFUNDS.append((order_id, amount))
    return {"refunded": amount, "order_id": order_id}


REFUNDS: list[tuple[str, float]] = []


def loop_model() -> FunctionModel:
    """Calls `echo` forever (to hit limits)."""

    def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[ToolCallPart("echo", {"text": "again"})])

    return FunctionModel(fn)


def agent(*functions: Any, **kwargs: Any) -> PromptAgent[Any]:
    kwargs.setdefault("sessions", SessionStore(persist=False))
    return PromptAgent("docs-agent", toolsets=[make_toolset(list(functions or [echo]), id="t")], **kwargs)


def test_max_tool_calls_ends_the_run_naming_the_limit() -> None:
    with pytest.raises(UsageLimitError) as info:
        agent(limits=Limits(max_tool_calls=3, max_requests=50)).run_sync("go", model=loop_model())
    err = info.value
    assert err.limit == "max_tool_calls" and err.value == 3
    assert "max_tool_calls limit (3)" in str(err)
    assert isinstance(err, RunError)
    # the work done before the limit: the 4th call was requested but never ran
    assert len(err.trajectory.tool_calls()) == 4
    assert [r.content for r in err.trajectory.tool_results()] == ["echo: again"] * 3


def test_max_requests_and_token_budget() -> None:
    with pytest.raises(UsageLimitError) as info:
        agent(limits=Limits(max_requests=2, max_tool_calls=None)).run_sync("go", model=loop_model())
    assert (info.value.limit, info.value.value) == ("max_requests", 2)
    assert len(info.value.trajectory.model_turns()) == 2
    with pytest.raises(UsageLimitError) as info:
        agent(limits=Limits(max_requests=None, max_tool_calls=None, max_tokens=200)).run_sync("go", model=loop_model())
    assert (info.value.limit, info.value.value) == ("max_tokens", 200)


def test_a_tool_failing_past_retries_is_a_clear_run_error() -> None:
    def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[ToolCallPart("echo", {"wrong": 1})])

    with pytest.raises(AgentRunFailed, match="exceeded max retries") as info:
        agent().run_sync("go", model=FunctionModel(fn))
    assert info.value.trajectory is not None and info.value.trajectory.tool_results()[0].error


def test_question_or_deferred_results_required() -> None:
    with pytest.raises(UserError, match="Give a question"):
        agent().run_sync(None, model="offline")


def _seen_model(log: list[list[str]]) -> FunctionModel:
    """Answers with how many user prompts it has seen; logs them."""

    def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        prompts = [
            p.content for m in messages if isinstance(m, ModelRequest) for p in m.parts if isinstance(p, UserPromptPart)
        ]
        log.append([str(p) for p in prompts])
        return ModelResponse(parts=[TextPart(f"turn {len(prompts)}")])

    return FunctionModel(fn)


def test_session_history_carries_across_runs_and_processes(data_dir) -> None:  # type: ignore[no-untyped-def]
    log: list[list[str]] = []
    first = PromptAgent("docs-agent")
    assert first.run_sync("one", model=_seen_model(log), session_id="s1").output == "turn 1"
    assert first.run_sync("two", model=_seen_model(log), session_id="s1").output == "turn 2"
    # a new agent and store (another CLI call) reads the SQLite file under the data folder
    second = PromptAgent("docs-agent", sessions=SessionStore())
    result = second.run_sync("three", model=_seen_model(log), session_id="s1")
    assert result.output == "turn 3"
    assert log[-1] == ["Question: one", "Question: two", "Question: three"]
    assert (data_dir / "agent_sessions.sqlite").exists()
    # the run's trajectory has this run only
    assert [s.text for s in result.trajectory.steps if s.kind == "user_prompt"] == ["Question: three"]
    # another session is separate
    assert second.run_sync("x", model=_seen_model(log), session_id="s2").output == "turn 1"
    info = {s.session_id: s.messages for s in SessionStore().sessions()}
    assert info == {"s1": 6, "s2": 2}
    SessionStore().clear("s1")
    assert SessionStore().load("s1") == []


def _approval_model() -> FunctionModel:
    def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        last = messages[-1]
        if any(isinstance(p, UserPromptPart) for p in last.parts):
            return ModelResponse(
                parts=[
                    ToolCallPart("refund_order", {"order_id": "A1", "amount": 20.0}, tool_call_id="c1"),
                    ToolCallPart("refund_order", {"order_id": "B2", "amount": 999.0}, tool_call_id="c2"),
                    ToolCallPart("echo", {"text": "hi"}, tool_call_id="c3"),
                ]
            )
        outcomes = [f"{p.tool_name}:{p.outcome}" for p in last.parts if hasattr(p, "outcome")]
        return ModelResponse(parts=[TextPart(";".join(outcomes))])

    return FunctionModel(fn)


def test_side_effecting_tool_waits_for_approval_and_resumes_in_the_session() -> None:
    REFUNDS.clear()
    toolset = make_toolset([echo, refund_order], id="shop", approval=["refund_order"])
    store = SessionStore(persist=False)
    shop = PromptAgent("docs-agent", toolsets=[toolset], sessions=store)
    paused = shop.run_sync("refund my orders", model=_approval_model(), session_id="s")
    assert [(c.tool_name, c.args["order_id"]) for c in paused.pending_approvals] == [
        ("refund_order", "A1"),
        ("refund_order", "B2"),
    ]
    assert REFUNDS == []  # nothing ran before approval
    assert "waiting for approval" in paused.answer_text
    decisions = DeferredToolResults(approvals={"c1": True, "c2": ToolDenied("Amount above the limit.")})
    resumed = shop.run_sync(None, model=_approval_model(), session_id="s", deferred_results=decisions)
    assert REFUNDS == [("A1", 20.0)]
    assert resumed.output == "refund_order:success;refund_order:denied;echo:success"
    results = {r.call_id: (r.content, r.error) for r in resumed.trajectory.tool_results()}
    assert results["c1"] == ({"refunded": 20.0, "order_id": "A1"}, False)
    assert results["c2"] == ("Amount above the limit.", True)


def test_agent_span_has_prompt_and_every_span_user_and_session(spans) -> None:  # type: ignore[no-untyped-def]
    result = agent().run_sync("hello", model=_echo_twice(), user_id="u-42", session_id="sess-9")
    mine = [s for s in spans.get_finished_spans() if f"{s.context.trace_id:032x}" == result.trace_id]
    kinds = sorted(s.attributes["openinference.span.kind"] for s in mine)
    assert kinds == ["AGENT", "LLM", "LLM", "TOOL"]
    assert all(s.attributes["user.id"] == "u-42" and s.attributes["session.id"] == "sess-9" for s in mine)
    (root,) = [s for s in mine if s.attributes["openinference.span.kind"] == "AGENT"]
    version = PromptRegistry().get("docs-agent").version
    assert root.parent is None
    assert root.attributes["llm.prompt_template.version"] == version == result.prompt_version
    assert root.attributes["prompt.id"] == "docs-agent"
    meta = json.loads(root.attributes["metadata"])
    assert meta["prompt"] == "docs-agent" and meta["prompt_version"] == version and meta["user_id"] == "u-42"
    (tool,) = [s for s in mine if s.attributes["openinference.span.kind"] == "TOOL"]
    assert tool.attributes["tool.name"] == "echo"
    assert json.loads(tool.attributes["tool.parameters"]) == {"text": "hello"}
    assert tool.attributes["output.value"] == "echo: hello"


def _echo_twice() -> FunctionModel:
    def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if len(messages) == 1:
            return ModelResponse(parts=[ToolCallPart("echo", {"text": "hello"})])
        return ModelResponse(parts=[TextPart("done")])

    return FunctionModel(fn)


def test_agent_over_the_openai_wire_with_tool_calls_over_several_rounds(openai_server) -> None:  # type: ignore[no-untyped-def]
    from tests.support.openai_wire import text_reply, tool_call_reply

    openai_server.script(
        tool_call_reply(("echo", {"text": "a"})),
        tool_call_reply(("echo", {"text": "b"}), ("echo", {"text": "c"})),
        text_reply("echoed a, b and c"),
    )
    result = agent().run_sync("echo three things", model=f"openai-compatible:m@{openai_server.url}", user_id="u")
    assert result.output == "echoed a, b and c"
    assert [c.args["text"] for c in result.trajectory.tool_calls()] == ["a", "b", "c"]
    assert [r.content for r in result.trajectory.tool_results()] == ["echo: a", "echo: b", "echo: c"]
    assert result.usage.requests == 3 and result.usage.input_tokens == 50 + 50 + 40
    bodies = openai_server.requests
    assert len(bodies) == 3
    assert bodies[0]["messages"][0]["role"] == "system" and "help-center" in bodies[0]["messages"][0]["content"]
    assert bodies[0]["messages"][-1] == {"role": "user", "content": "Question: echo three things"}
    assert [t["function"]["name"] for t in bodies[0]["tools"]] == ["echo"]
    tool_msgs = [m for m in bodies[2]["messages"] if m["role"] == "tool"]
    assert [m["content"] for m in tool_msgs] == ["echo: a", "echo: b", "echo: c"]
    assert [m["tool_call_id"] for m in tool_msgs] == ["call_0_echo", "call_0_echo", "call_1_echo"]
