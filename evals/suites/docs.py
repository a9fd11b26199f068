"""Targets of the docs suites: hybrid retrieval over the demo help center, and a small docs agent whose
one tool is `search_docs` (a pydantic-ai `Agent`; offline it runs the offline baseline policy).

Both read the `demo-docs` index, built from the shipped help center by `aiagents ingest` (the demo builds its
own in its own data folder).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

from aiagents.evals.runner.targets import Target, TargetOutput

from aiagents.errors import UserError
from aiagents.models import resolve_model

__all__ = ["AGENT_FACTORY", "agent_target", "docs_retriever", "rag_target"]


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
            "(the demo's index lives in the demo's own data folder)."
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


AGENT_FACTORY: Callable[..., Any] | None = None
"""Builds the served docs agent: `aiagents.tools.docs_agent.docs_agent`, set by the CLI, which wires the layers
(evals does not import tools). The suite then runs exactly the agent the service runs."""


def agent_target(
    *,
    model: str | None = None,
    index_name: str | None = None,
    prompt_version: str | None = None,
    tools: list[str] | None = None,
) -> Target:
    """Question -> the served docs agent's `Trajectory` (tool calls, results, final answer), its prompt version
    recorded (the working file unless `prompt_version` names a version or a label)."""
    from aiagents.prompts import PromptRegistry

    if AGENT_FACTORY is None:
        raise UserError(
            "the docs-agent suite runs the served docs agent: set aiagents.evals.suites.docs.AGENT_FACTORY = "
            "aiagents.tools.docs_agent.docs_agent first (`aiagents eval run docs-agent` does)"
        )
    retriever = docs_retriever(index_name)
    prompt = PromptRegistry().resolve("docs-agent", prompt_version)
    agent = AGENT_FACTORY(retriever, prompt=prompt, tools=tools)
    resolved = resolve_model(model)

    async def ask(question: Any) -> TargetOutput:
        result = await agent.run(str(question), model=resolved.model)
        u = result.usage
        return TargetOutput(
            output=result.trajectory,
            usage={"requests": u.requests, "input_tokens": u.input_tokens, "output_tokens": u.output_tokens},
        )

    return Target(
        fn=ask, name="agent:docs", model=resolved.name, cacheable=False, prompt_versions={prompt.name: prompt.version}
    )
