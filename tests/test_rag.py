"""RAG answering over a real tiny index: citations, invalid-citation guard, spans nested under the chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from aiagents.rag import RagPipeline, format_context
from aiagents.tracing import attributes as oi

DOCS = {
    "refunds.md": "# Refunds\n\nA refund is paid within 14 days of the returned item arriving at the warehouse.\n",
    "shipping.md": "# Shipping\n\nStandard shipping takes 3 to 5 working days inside the EU.\n",
    "accounts.md": "# Accounts\n\nYou can delete your account from the privacy page in settings.\n",
}


@pytest.fixture
def retriever(tmp_path: Path):  # type: ignore[no-untyped-def]
    from aiagents.ingestion import ingest
    from aiagents.retrieval import Retriever, get_embedder, open_index

    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    ingest(folder, "tiny")
    return Retriever(open_index("tiny"), get_embedder())


async def test_offline_answer_cites_the_refund_chunk(retriever) -> None:  # type: ignore[no-untyped-def]
    answer = await RagPipeline(retriever, k=3).ask("When is a refund paid?")
    assert answer.found_answer
    assert answer.hits[0].id.startswith("refunds.md#")
    assert answer.citations == [answer.hits[0].id]
    assert "14 days" in answer.answer
    assert answer.model == "offline"


async def test_unknown_question_is_not_answered(retriever) -> None:  # type: ignore[no-untyped-def]
    answer = await RagPipeline(retriever, k=3).ask("Who painted the Mona Lisa?")
    assert not answer.found_answer and answer.citations == []


async def test_citations_outside_the_hits_are_dropped(retriever) -> None:  # type: ignore[no-untyped-def]
    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        args = {"answer": "14 days.", "citations": ["refunds.md#0", "made-up#9"], "found_answer": True}
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, args)])

    answer = await RagPipeline(retriever, model=FunctionModel(model), k=3).ask("When is a refund paid?")
    assert answer.citations == ["refunds.md#0"]
    assert answer.invalid_citations == ["made-up#9"]


async def test_retriever_and_llm_spans_nest_under_the_rag_chain(retriever, spans) -> None:  # type: ignore[no-untyped-def]
    answer = await RagPipeline(retriever, k=2).ask("How long does shipping take?", user_id="u7")
    mine = [s for s in spans.get_finished_spans() if f"{s.context.trace_id:032x}" == answer.trace_id]
    by_kind: dict[str, list] = {}
    for span in mine:
        by_kind.setdefault(span.attributes[oi.SPAN_KIND], []).append(span)
    root = next(s for s in by_kind["CHAIN"] if s.parent is None)
    assert root.name == "rag" and root.attributes[oi.USER_ID] == "u7"
    retriever_span = by_kind["RETRIEVER"][0]
    assert retriever_span.parent.span_id == root.context.span_id
    assert retriever_span.attributes["retrieval.documents.0.document.id"] == answer.hits[0].id
    assert "EMBEDDING" in by_kind and len(by_kind["LLM"]) == 1


def test_format_context_keeps_headings_as_sentences() -> None:
    class H:
        id, text = "a#0", "# Title\n\nFirst line\ncontinues here."

    assert format_context([H()]) == "[a#0] Title. First line continues here."
