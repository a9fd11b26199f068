"""The docs toolset over a retriever, and the offline docs agent answering from a tiny real index."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from aiagents.retrieval.types import Chunk, Hit
from aiagents.tools.base import ToolError
from aiagents.tools.docs import DocsTools, docs_toolset
from pydantic_ai.messages import ModelResponse, ToolCallPart

from aiagents.agents import DocsAnswer, PromptAgent, SessionStore
from tests.test_tools_base import scripted

CHUNKS = {
    "refunds#0": Chunk(id="refunds#0", text="Refunds are paid within 14 days.", document_id="refunds", position=0),
    "refunds#1": Chunk(id="refunds#1", text="Store credit is instant.", document_id="refunds", position=1),
}


class FakeIndex:
    def get(self, ids: Sequence[str]) -> list[Chunk]:
        return [CHUNKS[i] for i in ids if i in CHUNKS]


class FakeRetriever:
    """Records calls; returns fixed hits."""

    def __init__(self) -> None:
        self.index = FakeIndex()
        self.calls: list[tuple[str, int, str, Any]] = []

    def search(self, query: str, k: int = 10, mode: str = "hybrid", filters: Mapping[str, Any] | None = None):  # type: ignore[no-untyped-def]
        self.calls.append((query, k, mode, filters))
        hits = [
            Hit(id="refunds#0", text="Refunds are paid within 14 days.", score=0.9, document_id="refunds"),
            Hit(id="refunds#1", text="x" * 3000, score=0.5, document_id="refunds", metadata={"lang": "en"}),
        ]
        return hits[:k]


def test_search_docs_returns_hits_and_passes_k_mode_filters() -> None:
    retriever = FakeRetriever()
    tools = DocsTools(retriever=retriever, mode="bm25", max_chars=100)
    hits = tools.search_docs("refund", k=2, filters={"lang": "en"})
    assert retriever.calls == [("refund", 2, "bm25", {"lang": "en"})]
    assert hits[0] == {
        "id": "refunds#0",
        "document_id": "refunds",
        "source": "refunds",  # how to cite it: `manual.pdf p. 12` for a PDF page
        "text": "Refunds are paid within 14 days.",
        "score": 0.9,
        "metadata": {},
    }
    assert len(hits[1]["text"]) == 102 and hits[1]["text"].endswith(" …")
    assert hits[1]["metadata"] == {"lang": "en"}


def test_fetch_document_by_passage_and_by_document_id() -> None:
    tools = DocsTools(retriever=FakeRetriever())
    assert tools.fetch_document("refunds#1")["text"] == "Store credit is instant."
    whole = tools.fetch_document("refunds")
    assert whole["text"] == "Refunds are paid within 14 days.\n\nStore credit is instant."
    assert whole["passages"] == ["refunds#0", "refunds#1"]
    with pytest.raises(ToolError, match="No document or passage with id 'nope'"):
        tools.fetch_document("nope")


def test_bad_arguments_and_empty_query_go_back_to_the_model() -> None:
    retriever = FakeRetriever()
    model = scripted(
        ModelResponse(parts=[ToolCallPart("search_docs", {"query": "refund", "k": 500})]),
        ModelResponse(parts=[ToolCallPart("search_docs", {"query": "  "})]),
        ModelResponse(parts=[ToolCallPart("fetch_document", {"id": "ghost"})]),
        ModelResponse(parts=[ToolCallPart("search_docs", {"query": "refund", "k": 1})]),
        ModelResponse(
            parts=[ToolCallPart("final_result", {"answer": "14 days", "found_answer": True, "confidence": 1})]
        ),
    )
    agent = PromptAgent(
        "docs-agent",
        toolsets=[docs_toolset(retriever, max_retries=3)],
        output_type=DocsAnswer,
        sessions=SessionStore(persist=False),
    )
    result = agent.run_sync("How long does a refund take?", model=model)
    results = result.trajectory.tool_results()
    assert [(r.tool_name, r.error) for r in results] == [
        ("search_docs", True),
        ("search_docs", True),
        ("fetch_document", True),
        ("search_docs", False),
    ]
    assert results[0].content[0]["type"] == "less_than_equal"
    assert results[1].content == "The query is empty: pass the words to search for."
    assert "ghost" in results[2].content
    assert retriever.calls == [("refund", 1, "hybrid", None)]
    assert result.output == DocsAnswer(answer="14 days", found_answer=True, confidence=1.0)


DOCS = {
    "refunds.md": "# Refunds\n\nA refund is paid within 14 days of the returned item arriving at the warehouse.\n",
    "shipping.md": "# Shipping\n\nStandard shipping takes 3 to 5 working days inside the EU.\n",
    "accounts.md": "# Accounts\n\nYou can delete your account from the privacy page in settings.\n",
}


def test_offline_docs_agent_searches_then_answers_with_citations(tmp_path: Path) -> None:
    from aiagents.ingestion import ingest
    from aiagents.retrieval import Retriever, get_embedder, open_index

    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    ingest(folder, "tiny")
    index = open_index("tiny")
    try:
        toolset = docs_toolset(Retriever(index, get_embedder()))
        agent = PromptAgent("docs-agent", toolsets=[toolset], model="offline", sessions=SessionStore(persist=False))
        result = agent.run_sync("How long does a refund take?")
        calls = result.trajectory.tool_calls()
        assert [c.tool_name for c in calls] == ["search_docs"]
        assert calls[0].args == {"query": "How long does a refund take?"}
        hits = result.trajectory.tool_results()[0].content
        assert hits[0]["id"] == "refunds.md#0"
        assert "14 days" in result.output and "[refunds.md#0]" in result.output
        structured = PromptAgent(
            "docs-agent",
            toolsets=[toolset],
            model="offline",
            output_type=DocsAnswer,
            sessions=SessionStore(persist=False),
        ).run_sync("How long does a refund take?")
        assert structured.output.found_answer is True
        assert structured.output.references[0] == "refunds.md#0"
        assert "14 days" in structured.output.answer
        assert structured.trajectory.output["references"][0] == "refunds.md#0"
    finally:
        index.close()
