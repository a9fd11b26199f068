"""Trajectory.from_spans equals Trajectory.from_messages for the same run: in process and through Phoenix."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from aiagents.retrieval.types import Hit
from aiagents.tools.docs import docs_toolset
from aiagents.tools.rollout import RolloutConfig, RolloutToolset
from pydantic import BaseModel
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from aiagents.agents import DocsAnswer, PromptAgent, SessionStore
from aiagents.errors import UserError
from aiagents.trajectory import ModelTurn, ToolCall, ToolResult, Trajectory
from tests.support.phoenix import tracing_project


class Docs:
    def search(self, query: str, k: int = 5, mode: str = "hybrid", filters: Any = None) -> list[Hit]:
        return [
            Hit(id="refunds#0", text="A refund is paid within 14 days.", score=0.9, document_id="refunds"),
            Hit(id="shipping#0", text="Shipping takes 3 to 5 days.", score=0.2, document_id="shipping"),
        ][:k]


def busy_model() -> FunctionModel:
    """Invalid arguments (retry), a text + two parallel calls, an unknown tool, then a structured answer."""

    def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        n = sum(isinstance(m, ModelResponse) for m in messages)
        if n == 0:
            return ModelResponse(parts=[ToolCallPart("search_docs", {"query": "refund", "k": 0})])
        if n == 1:
            return ModelResponse(
                parts=[
                    TextPart("Looking in two places."),
                    ToolCallPart("search_docs", {"query": "refund", "k": 1}),
                    ToolCallPart("fetch_document", {"id": "refunds"}),
                ]
            )
        if n == 2:
            return ModelResponse(parts=[ToolCallPart("delete_everything", {})])
        args = {"answer": "14 days [refunds#0]", "found_answer": True, "references": ["refunds#0"], "confidence": 0.7}
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, args)])

    return FunctionModel(fn, model_name="scripted")


def run_agent(user_id: str = "u-1", session_id: str = "sess-1"):  # type: ignore[no-untyped-def]
    fetch = lambda ids: []  # noqa: E731 - no documents: fetch_document answers with an error
    rollout = RolloutConfig.from_dict({"fetch_document": "on", "search_docs": {"allow": [user_id]}})
    toolset = RolloutToolset(docs_toolset(Docs(), fetch=fetch, max_retries=3), rollout)
    agent = PromptAgent("docs-agent", toolsets=[toolset], output_type=DocsAnswer, sessions=SessionStore(persist=False))
    return agent.run_sync("How long does a refund take?", model=busy_model(), user_id=user_id, session_id=session_id)


def _shape(t: Trajectory) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for s in t.steps:
        if isinstance(s, ModelTurn):
            out.append(("model", [c.tool_name for c in s.tool_calls]))
        elif isinstance(s, ToolCall):
            out.append(("call", s.tool_name))
        elif isinstance(s, ToolResult):
            out.append(("result", (s.tool_name, s.error)))
        else:
            out.append((s.kind, None))
    return out


EXPECTED_SHAPE = [
    ("user_prompt", None),
    ("model", ["search_docs"]),
    ("call", "search_docs"),
    ("result", ("search_docs", True)),
    ("model", ["search_docs", "fetch_document"]),
    ("call", "search_docs"),
    ("call", "fetch_document"),
    ("result", ("search_docs", False)),
    ("result", ("fetch_document", True)),
    ("model", ["delete_everything"]),
    ("call", "delete_everything"),
    ("result", ("delete_everything", True)),
    ("model", ["final_result"]),
    ("call", "final_result"),
    ("final_output", None),
]


def test_from_spans_equals_from_messages_in_process(spans) -> None:  # type: ignore[no-untyped-def]
    result = run_agent()
    assert _shape(result.trajectory) == EXPECTED_SHAPE
    from_spans = Trajectory.from_spans(spans.get_finished_spans(), trace_id=result.trace_id)
    assert from_spans.comparable() == result.trajectory.comparable()
    # what differs: timings and span ids, which only spans have
    assert from_spans.duration_s is not None and from_spans.duration_s > 0
    assert all(t.span_id and t.duration_s is not None for t in from_spans.model_turns())
    assert from_spans.output == {
        "answer": "14 days [refunds#0]",
        "found_answer": True,
        "references": ["refunds#0"],
        "confidence": 0.7,
    }
    assert from_spans.metadata["tool_rollout"]["enabled"] == ["search_docs", "fetch_document"]
    # the AGENT span shows the run's input and output (Phoenix lists them for the trace)
    (agent,) = [s for s in spans.get_finished_spans() if s.attributes.get("openinference.span.kind") == "AGENT"]
    assert agent.attributes["input.value"] == "Question: How long does a refund take?"
    assert json.loads(agent.attributes["output.value"])["answer"] == "14 days [refunds#0]"
    assert agent.attributes["session.id"] == "sess-1" and agent.attributes["user.id"] == "u-1"


def test_from_spans_needs_one_run(spans) -> None:  # type: ignore[no-untyped-def]
    run_agent()
    run_agent()
    with pytest.raises(UserError, match="exactly one top-level agent run; found .*, .*Pass trace_id="):
        Trajectory.from_spans(spans.get_finished_spans())


def _phoenix_spans(url: str, trace_id: str, want: int) -> tuple[list[dict[str, Any]], Any]:
    from phoenix.client import Client

    client = Client(base_url=url)
    deadline = time.monotonic() + 30
    spans: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        try:  # the project exists only once the first spans arrived
            got = client.spans.get_spans(project_identifier=tracing_project(), limit=1000)
        except httpx.HTTPStatusError:
            got = []
        spans = [s for s in got if s["context"]["trace_id"] == trace_id]
        if len(spans) >= want:
            break
        time.sleep(0.5)
    frame = client.spans.get_spans_dataframe(project_identifier=tracing_project(), limit=1000)
    return spans, frame[frame["context.trace_id"] == trace_id]


def test_from_phoenix_spans_equals_from_messages(phoenix_server: str) -> None:
    from aiagents import tracing

    tracing.setup(endpoint=phoenix_server, batch=False)
    result = run_agent(user_id="u-phx", session_id="sess-phx")
    tracing.current_tracing().flush()  # type: ignore[union-attr]
    # AGENT + 4 LLM + TOOL spans for the calls that ran (2 search_docs, 1 fetch_document)
    spans, frame = _phoenix_spans(phoenix_server, result.trace_id, want=1 + 4 + 3)
    kinds = sorted(s["span_kind"] for s in spans)
    assert kinds == ["AGENT", "LLM", "LLM", "LLM", "LLM", "TOOL", "TOOL", "TOOL"]
    (agent,) = [s for s in spans if s["span_kind"] == "AGENT"]
    assert all(s["parent_id"] == agent["context"]["span_id"] for s in spans if s is not agent)
    assert all(s["attributes"]["session.id"] == "sess-phx" and s["attributes"]["user.id"] == "u-phx" for s in spans)
    tools = sorted((s for s in spans if s["span_kind"] == "TOOL"), key=lambda s: s["start_time"])
    assert [s["attributes"]["tool.name"] for s in tools] == ["search_docs", "search_docs", "fetch_document"]
    assert json.loads(tools[1]["attributes"]["input.value"]) == {"query": "refund", "k": 1}
    assert json.loads(tools[1]["attributes"]["output.value"])[0]["id"] == "refunds#0"
    assert agent["attributes"]["metadata.tool_rollout.reasons.search_docs"] == "on the allow-list"
    assert agent["attributes"]["llm.prompt_template.version"] == result.prompt_version
    assert agent["attributes"]["input.value"] == "Question: How long does a refund take?"
    assert json.loads(agent["attributes"]["output.value"])["references"] == ["refunds#0"]

    want = result.trajectory.comparable()
    assert Trajectory.from_spans(spans).comparable() == want
    assert Trajectory.from_spans(frame).comparable() == want

    # the CLI reads the same run back from Phoenix
    from typer.testing import CliRunner

    from aiagents.cli import app

    cli = CliRunner().invoke(app, ["agent", "trace", result.trace_id, "--phoenix", phoenix_server, "--json"])
    assert cli.exit_code == 0, cli.output
    read_back = Trajectory.from_json(json.dumps(json.loads(cli.stdout)["trajectory"]))
    assert read_back.comparable() == want
    missing = CliRunner().invoke(app, ["agent", "trace", "0" * 32, "--phoenix", phoenix_server])
    assert missing.exit_code == 1 and "No spans of trace" in " ".join(missing.output.split())


def test_from_spans_of_a_run_paused_for_approval_and_its_resumption(spans) -> None:  # type: ignore[no-untyped-def]
    from aiagents.tools.base import make_toolset
    from pydantic_ai import DeferredToolResults, ToolDenied

    from tests.test_agents_agent import _approval_model, echo, refund_order

    toolset = make_toolset([echo, refund_order], id="shop", approval=["refund_order"])
    shop = PromptAgent("docs-agent", toolsets=[toolset], sessions=SessionStore(persist=False))
    paused = shop.run_sync("refund my orders", model=_approval_model(), session_id="s")
    decisions = DeferredToolResults(approvals={"c1": True, "c2": ToolDenied("Amount above the limit.")})
    resumed = shop.run_sync(None, model=_approval_model(), session_id="s", deferred_results=decisions)
    finished = spans.get_finished_spans()
    for run in (paused, resumed):
        assert Trajectory.from_spans(finished, trace_id=run.trace_id).comparable() == run.trajectory.comparable()
    # the paused run has no output; the resumed one starts with the approved and the denied call's results
    assert paused.trajectory.output is None
    assert [(r.call_id, r.error) for r in resumed.trajectory.tool_results()] == [("c1", False), ("c2", True)]


class Item(BaseModel):
    sku: str
    price: float


def kinds_toolset() -> Any:
    from aiagents.tools import make_toolset

    def as_text() -> str:
        """Plain words."""
        return "plain words, not JSON"

    def as_json_text() -> str:
        """JSON as text."""
        return '{"a": 1, "b": [true, null]}'

    def as_dict() -> dict[str, Any]:
        """A dict."""
        return {"nested": {"x": [1, 2.5]}, "name": "dict"}

    def as_model() -> Item:
        """A pydantic model."""
        return Item(sku="B-1", price=9.5)

    return make_toolset([as_text, as_json_text, as_dict, as_model], id="kinds")


def kinds_model() -> FunctionModel:
    def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if not any(isinstance(m, ModelResponse) for m in messages):
            names = ("as_text", "as_json_text", "as_dict", "as_model")
            return ModelResponse(parts=[ToolCallPart(n, {}, tool_call_id=f"c-{n}") for n in names])
        args = {"answer": "four kinds", "found_answer": True, "references": [], "confidence": 0.5}
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, args)])

    return FunctionModel(fn, model_name="kinds")


def test_a_run_read_back_from_phoenix_replays_with_tool_results_of_every_kind(phoenix_server: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Strings, JSON strings, dicts and pydantic models: `agent trace ID --save F` then `ReplayModel.load(F)`
    replays with the result checks on, and a changed result is still caught."""
    from typer.testing import CliRunner

    from aiagents import tracing
    from aiagents.cli import app
    from aiagents.models import ReplayDivergenceError, ReplayModel

    def agent(toolset: Any) -> PromptAgent[DocsAnswer]:
        return PromptAgent(
            "docs-agent", toolsets=[toolset], output_type=DocsAnswer, sessions=SessionStore(persist=False)
        )

    tracing.setup(endpoint=phoenix_server, batch=False)
    result = agent(kinds_toolset()).run_sync("Four kinds?", model=kinds_model())
    tracing.current_tracing().flush()  # type: ignore[union-attr]
    _phoenix_spans(phoenix_server, result.trace_id, want=1 + 2 + 4)
    saved = tmp_path / "kinds.json"
    cli = CliRunner().invoke(
        app, ["agent", "trace", result.trace_id, "--phoenix", phoenix_server, "--save", str(saved)]
    )
    assert cli.exit_code == 0, cli.output
    read_back = Trajectory.load(saved)
    assert read_back.comparable() == result.trajectory.comparable()  # JSON text stays text, a dict a dict

    replayed = agent(kinds_toolset()).run_sync("Four kinds?", model=ReplayModel.load(saved))
    assert replayed.output == result.output

    from aiagents.tools import make_toolset

    def as_dict() -> dict[str, Any]:
        """A dict."""
        return {"nested": {"x": [1, 2.5]}, "name": "changed"}

    changed = kinds_toolset()
    changed.tools.pop("as_dict")
    changed = make_toolset([*changed.tools.values(), as_dict], id="kinds")
    with pytest.raises(ReplayDivergenceError, match="as_dict"):
        agent(changed).run_sync("Four kinds?", model=ReplayModel.load(saved))
