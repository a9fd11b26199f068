"""RAG answering: question -> retriever (hybrid search) -> versioned prompt with context -> cited answer.

The core does not import `retrieval`: the pipeline takes any object with
`search(query, k=..., mode=..., filters=...)` returning hits with `id`, `text`, `score`, `metadata`
(a `retrieval.Retriever` is one). The retrieval call runs in a worker thread so the event loop stays free;
its RETRIEVER and EMBEDDING spans nest under the pipeline's CHAIN span.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from opentelemetry.trace import Status, StatusCode
from pydantic import BaseModel, Field
from pydantic_ai.models import Model

from aiagents.citations import citation_label
from aiagents.models import CallUsage
from aiagents.tasks import Task
from aiagents.tracing import attributes as oi
from aiagents.tracing import get_tracer, trace_id_hex

__all__ = ["RagOutput", "RagAnswer", "RagPipeline", "SearchBackend", "format_context"]

RAG_PROMPT = "rag-answer"


class SearchBackend(Protocol):
    """What the pipeline needs from a retriever."""

    def search(
        self, query: str, k: int = 10, mode: Any = "hybrid", filters: Mapping[str, Any] | None = None
    ) -> Sequence[Any]: ...


class RagOutput(BaseModel):
    """The model's structured answer."""

    answer: str = Field(description="The answer, in a few sentences, from the passages only.")
    citations: list[str] = Field(default_factory=list, description="Ids of the passages the answer uses.")
    found_answer: bool = Field(description="False when the passages do not contain the answer.")


@dataclass(kw_only=True)
class RagAnswer:
    """An answer with its citations, the retrieved hits and what it cost."""

    answer: str
    citations: list[str]
    """Cited chunk ids that were really retrieved."""
    found_answer: bool
    hits: list[Any] = field(default_factory=list)
    invalid_citations: list[str] = field(default_factory=list)
    """Ids the model cited that were not among the retrieved hits (dropped from `citations`)."""
    sources: list[str] = field(default_factory=list)
    """The cited passages as a person reads them: `manual.pdf p. 12`, `refunds.md` (in citation order)."""
    prompt_name: str = RAG_PROMPT
    prompt_version: str = ""
    model: str = ""
    usage: CallUsage = field(default_factory=CallUsage)
    latency_ms: float = 0.0
    retrieval_ms: float = 0.0
    trace_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "citations": self.citations,
            "found_answer": self.found_answer,
            "invalid_citations": self.invalid_citations,
            "sources": self.sources,
            "hits": [
                {
                    "id": h.id,
                    "score": round(float(h.score), 6),
                    "text": h.text,
                    "source": citation_label(
                        getattr(h, "document_id", "") or h.id,
                        getattr(h, "metadata", {}),
                        getattr(h, "heading_path", ()),
                    ),
                    "span": getattr(h, "span", None),
                    "metadata": getattr(h, "metadata", {}),
                }
                for h in self.hits
            ],
            "prompt": self.prompt_name,
            "prompt_version": self.prompt_version,
            "model": self.model,
            "usage": {
                "input_tokens": self.usage.input_tokens,
                "output_tokens": self.usage.output_tokens,
                "cost_usd": self.usage.cost_usd,
            },
            "latency_ms": round(self.latency_ms, 2),
            "retrieval_ms": round(self.retrieval_ms, 2),
            "trace_id": self.trace_id,
        }


def format_context(hits: Sequence[Any], max_chars: int = 1200) -> str:
    """Hits as prompt context, one per line: `[id] text` (newlines folded, long texts cut)."""
    lines = []
    for hit in hits:
        parts = []
        for line in str(hit.text).splitlines():
            line = line.strip()
            if line.startswith("#"):  # a heading: end it with a period so it stays its own sentence
                heading = line.lstrip("#").strip()
                line = heading if not heading or heading[-1] in ".!?:" else heading + "."
            if line:
                parts.append(line)
        lines.append(f"[{hit.id}] {' '.join(parts)[:max_chars]}")
    return "\n".join(lines)


class RagPipeline:
    """`await RagPipeline(retriever).ask("How long do refunds take?")` -> `RagAnswer` with citations."""

    def __init__(
        self,
        retriever: SearchBackend,
        *,
        model: str | Model | None = None,
        prompt: str = RAG_PROMPT,
        prompt_version: str | None = None,
        k: int = 5,
        mode: str = "hybrid",
    ) -> None:
        self.retriever = retriever
        self.task: Task[RagOutput] = Task(prompt, RagOutput, model=model, version=prompt_version)
        self.k = k
        self.mode = mode

    def ask_sync(self, question: str, **kwargs: Any) -> RagAnswer:
        """Blocking form of `ask`."""
        return asyncio.run(self.ask(question, **kwargs))

    async def ask(
        self,
        question: str,
        *,
        k: int | None = None,
        mode: str | None = None,
        filters: Mapping[str, Any] | None = None,
        model: str | Model | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> RagAnswer:
        """Retrieve, answer from the hits, keep only citations of retrieved chunks."""
        started = time.perf_counter()
        tracer = get_tracer("aiagents.rag")
        with tracer.start_as_current_span("rag") as span:
            span.set_attribute(oi.SPAN_KIND, oi.CHAIN)
            span.set_attribute(oi.INPUT_VALUE, question)
            if user_id:
                span.set_attribute(oi.USER_ID, user_id)
            if session_id:
                span.set_attribute(oi.SESSION_ID, session_id)
            try:
                hits = list(
                    await asyncio.to_thread(
                        self.retriever.search, question, k=k or self.k, mode=mode or self.mode, filters=filters
                    )
                )
                retrieval_ms = (time.perf_counter() - started) * 1000
                result = await self.task.run(
                    {"question": question, "context": format_context(hits)},
                    model=model,
                    user_id=user_id,
                    session_id=session_id,
                )
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, str(exc)))
                raise
            retrieved = {h.id: h for h in hits}
            cited = list(dict.fromkeys(result.output.citations))
            labels = [
                citation_label(
                    getattr(retrieved[c], "document_id", "") or c,
                    getattr(retrieved[c], "metadata", {}),
                    getattr(retrieved[c], "heading_path", ()),
                )
                for c in cited
                if c in retrieved
            ]
            answer = RagAnswer(
                answer=result.output.answer,
                citations=[c for c in cited if c in retrieved],
                sources=list(dict.fromkeys(labels)),
                invalid_citations=[c for c in cited if c not in retrieved],
                found_answer=result.output.found_answer,
                hits=hits,
                prompt_version=result.prompt_version,
                prompt_name=result.prompt_name,
                model=result.model,
                usage=result.usage,
                retrieval_ms=retrieval_ms,
                latency_ms=(time.perf_counter() - started) * 1000,
                trace_id=trace_id_hex(span),
            )
            span.set_attribute(oi.OUTPUT_VALUE, json.dumps({"answer": answer.answer, "citations": answer.citations}))
            span.set_attribute(oi.OUTPUT_MIME_TYPE, "application/json")
            span.set_attribute(
                oi.METADATA,
                json.dumps(
                    {
                        "prompt": result.prompt_name,
                        "prompt_version": result.prompt_version,
                        "model": result.model,
                        "k": k or self.k,
                        "mode": mode or self.mode,
                    }
                ),
            )
            span.set_status(Status(StatusCode.OK))
            return answer
