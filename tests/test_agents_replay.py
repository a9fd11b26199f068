"""ReplayModel: a recorded run plays back identically and fails loudly when the agent diverges."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiagents.retrieval.types import Hit
from aiagents.tools.docs import docs_toolset
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from aiagents.agents import DocsAnswer, PromptAgent, SessionStore
from aiagents.models import ReplayDivergenceError, ReplayModel
from aiagents.trajectory import Trajectory


class Docs:
    def __init__(self, text: str = "A refund is paid within 14 days.") -> None:
        self.text = text

    def search(self, query: str, k: int = 5, mode: str = "hybrid", filters: Any = None) -> list[Hit]:
        return [Hit(id="refunds#0", text=self.text, score=1.0, document_id="refunds")][:k]


def provider_like_model() -> FunctionModel:
    """Stands in for a real provider: two searches (one with k), then a structured answer."""

    def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        n = sum(isinstance(m, ModelResponse) for m in messages)
        if n == 0:
            return ModelResponse(parts=[TextPart("Searching."), ToolCallPart("search_docs", {"query": "refund"})])
        if n == 1:
            return ModelResponse(parts=[ToolCallPart("search_docs", {"query": "refund time", "k": 1})])
        args = {"answer": "14 days [refunds#0]", "found_answer": True, "references": ["refunds#0"], "confidence": 0.8}
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, args)])

    return FunctionModel(fn, model_name="gpt-real")


def docs_agent(docs: Docs | None = None, **kwargs: Any) -> PromptAgent[DocsAnswer]:
    return PromptAgent(
        "docs-agent",
        toolsets=[docs_toolset(docs or Docs())],
        output_type=DocsAnswer,
        sessions=SessionStore(persist=False),
        **kwargs,
    )


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    result = docs_agent().run_sync("How long does a refund take?", model=provider_like_model())
    path = tmp_path / "refund.json"
    result.trajectory.save(path)
    return path


def test_replay_reproduces_the_recorded_run(recording: Path) -> None:
    recorded = Trajectory.load(recording)
    replay = ReplayModel.load(recording)
    assert (replay.system, replay.model_name) == ("replay", "gpt-real")
    result = docs_agent().run_sync("How long does a refund take?", model=replay)
    assert replay.finished
    assert result.output == DocsAnswer(
        answer="14 days [refunds#0]", found_answer=True, references=["refunds#0"], confidence=0.8
    )
    assert result.model == "replay:gpt-real"
    got, want = result.trajectory.comparable(), recorded.comparable()
    for run_level in ("run_id", "trace_id", "session_id", "metadata"):  # new run: new ids; metadata: replay model
        got.pop(run_level), want.pop(run_level)
    assert got == want  # same steps, texts, arguments, call ids, results, output, token counts, model names


def test_divergent_tool_result_names_the_step(recording: Path) -> None:
    with pytest.raises(ReplayDivergenceError) as info:
        docs_agent(Docs("Refunds take 30 days.")).run_sync(
            "How long does a refund take?", model=ReplayModel.load(recording)
        )
    err = info.value
    assert err.step == 4  # user prompt, model turn, tool call, tool result <- this one
    assert "search_docs tool returned something else" in str(err)
    assert err.expected[0]["text"] == "A refund is paid within 14 days."
    assert err.actual[0]["text"] == "Refunds take 30 days."


def test_missing_tool_is_a_divergence(recording: Path) -> None:
    agent = PromptAgent("docs-agent", output_type=DocsAnswer, sessions=SessionStore(persist=False))
    with pytest.raises(ReplayDivergenceError, match="does not offer a recorded tool") as info:
        agent.run_sync("How long does a refund take?", model=ReplayModel.load(recording))
    assert info.value.step == 2 and info.value.expected == "search_docs"
    assert info.value.actual == ["final_result"]


def test_changed_prompt_is_a_divergence(recording: Path) -> None:
    with pytest.raises(ReplayDivergenceError, match="user prompt differs") as info:
        docs_agent().run_sync("How long is shipping?", model=ReplayModel.load(recording))
    assert info.value.expected == "Question: How long does a refund take?"
    assert info.value.actual == "Question: How long is shipping?"


def test_changed_tool_schema_is_a_divergence(recording: Path) -> None:
    def search_docs(text: str) -> list[dict[str, Any]]:
        """Search with another parameter name.

        Args:
            text: Words.
        """
        return []

    from aiagents.tools.base import make_toolset

    agent = PromptAgent(
        "docs-agent",
        toolsets=[make_toolset([search_docs], id="x")],
        output_type=DocsAnswer,
        sessions=SessionStore(persist=False),
    )
    with pytest.raises(
        ReplayDivergenceError, match=r"no longer fit its schema \(missing \['text'\], unknown \['query'\]\)"
    ):
        agent.run_sync("How long does a refund take?", model=ReplayModel.load(recording))


def test_more_requests_than_recorded_is_a_divergence(recording: Path) -> None:
    replay = ReplayModel.load(recording, check_results=False)
    # the agent now rejects the recorded final answer (a stricter output type), asks again: not recorded
    from pydantic import BaseModel, Field

    class Strict(BaseModel):
        answer: str
        found_answer: bool
        references: list[str]
        confidence: float = Field(le=0.5)

    agent = PromptAgent(
        "docs-agent", toolsets=[docs_toolset(Docs())], output_type=Strict, sessions=SessionStore(persist=False)
    )
    with pytest.raises(ReplayDivergenceError, match="one more model response than recorded"):
        agent.run_sync("How long does a refund take?", model=replay)


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    from aiagents.trajectory import TrajectoryFileError

    with pytest.raises(TrajectoryFileError, match="no such trajectory file"):
        ReplayModel.load(tmp_path / "none.json")
    (tmp_path / "empty.json").write_text(Trajectory().to_json())
    with pytest.raises(ValueError, match="no model turns"):
        ReplayModel.load(tmp_path / "empty.json")


def test_a_trace_read_back_with_json_text_as_objects_still_replays(recording: Path, tmp_path: Path) -> None:
    """Phoenix gives a tool's JSON result back as data where the run returned JSON text (or the reverse): the
    same JSON either way, so the replay holds."""
    import json

    from aiagents.trajectory import ToolResult

    recorded = Trajectory.load(recording)
    for step in recorded.steps:
        if isinstance(step, ToolResult):
            step.content = json.dumps(step.content)  # as text this time
    as_text = tmp_path / "as-text.json"
    recorded.save(as_text)
    result = docs_agent().run_sync("How long does a refund take?", model=ReplayModel.load(as_text))
    assert result.output.answer == "14 days [refunds#0]"
