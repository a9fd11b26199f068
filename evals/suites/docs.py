"""Targets of the docs suites: hybrid retrieval over the demo help center, and a small docs agent whose
one tool is `search_docs` (a pydantic-ai `Agent`; offline it runs the offline baseline policy).

Both read the `demo-docs` index (built by `aiagents demo`).
"""

from __future__ import annotations

import asyncio
from importlib.resources import files
from pathlib import Path
from typing import Any

from aiagents.evals.runner.targets import Target, TargetOutput

from aiagents.errors import UserError
from aiagents.models import resolve_model
from aiagents.trajectory import Trajectory

__all__ = ["agent_target", "docs_retriever", "rag_target", "DOCS_AGENT_INSTRUCTIONS"]

DOCS_AGENT_INSTRUCTIONS = (
    "You answer questions about the Brightcart shop from its help center. Always call `search_docs` with "
    "the user's question first, then answer briefly from the results, citing the document ids you used."
)


def docs_retriever(index_name: str | None = None) -> Any:
    """A `retrieval.Retriever` on the demo-docs index (a `UserError` saying how to build it when missing)."""
    from aiagents.evals.suites import DOCS_INDEX
    from aiagents.retrieval import IndexNotFoundError, Retriever, get_embedder, open_index

    name = index_name or DOCS_INDEX
    try:
        index = open_index(name)
    except IndexNotFoundError as exc:
        docs = Path(str(files("aiagents") / "demo_data" / "docs"))  # the core's data (evals does not import ingestion)
        raise UserError(
            f"The docs suites need the index {name!r}: run `aiagents ingest {docs} --index {name}` "
            "(or `aiagents demo`, which builds it)."
        ) from exc
    return Retriever(index, get_embedder())


def _hit_dict(h: Any) -> dict[str, Any]:
    return {"id": h.id, "document_id": h.document_id, "score": round(float(h.score), 4), "text": h.text[:600]}


def rag_target(*, model: str | None = None, k: int = 5, index_name: str | None = None) -> Target:
    """Question -> the top-k hits (dicts with `document_id`), so retrieval metrics read them directly."""
    retriever = docs_retriever(index_name)

    async def search(question: Any) -> dict[str, Any]:
        hits = await asyncio.to_thread(retriever.search, str(question), k)
        return {"hits": [_hit_dict(h) for h in hits]}

    return Target(fn=search, name="rag:demo-docs", model=None, cacheable=False)


def agent_target(*, model: str | None = None, k: int = 5, index_name: str | None = None) -> Target:
    """Question -> the docs agent's `Trajectory` (tool calls, results, final answer)."""
    from pydantic_ai import Agent

    retriever = docs_retriever(index_name)
    resolved = resolve_model(model)
    agent = Agent(resolved.model, instructions=DOCS_AGENT_INSTRUCTIONS)

    @agent.tool_plain
    async def search_docs(query: str) -> list[dict[str, Any]]:
        """Search the help center; returns the best passages with their document ids."""
        hits = await asyncio.to_thread(retriever.search, query, k)
        return [_hit_dict(h) for h in hits]

    async def ask(question: Any) -> TargetOutput:
        result = await agent.run(str(question))
        u = result.usage
        trajectory = Trajectory.from_messages(result.all_messages(), output=result.output, usage=u)
        return TargetOutput(
            output=trajectory,
            usage={"requests": u.requests, "input_tokens": u.input_tokens, "output_tokens": u.output_tokens},
        )

    return Target(fn=ask, name="agent:docs", model=resolved.name, cacheable=False)
