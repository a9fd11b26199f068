"""`docs_agent`: the docs agent, built one way for every caller: the service (`/v1/agent`), `aiagents agent ask`
and the `docs-agent` eval suite, so what is evaluated is what is served (the same prompt, tools and output)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiagents.tools.docs import SearchBackend, docs_toolset

from aiagents.agents import DocsAnswer, PromptAgent
from aiagents.errors import UserError
from aiagents.prompts import Prompt

__all__ = ["DOCS_AGENT_PROMPT", "DOCS_TOOLS", "docs_agent"]

DOCS_AGENT_PROMPT = "docs-agent"
DOCS_TOOLS = ("search_docs", "fetch_document")
"""The docs toolset's tools (an experiment variant or a dataset may narrow them by name)."""


def docs_agent(
    retriever: SearchBackend,
    *,
    tools: Sequence[str] | None = None,
    structured: bool = False,
    mode: str = "hybrid",
    rollout: Any = None,
    prompt: Prompt | str = DOCS_AGENT_PROMPT,
    **agent_kwargs: Any,
) -> PromptAgent[Any]:
    """The `docs-agent` prompt with `search_docs` and `fetch_document` over `retriever`.

    `tools` narrows the tools by name (an unknown name is a `UserError` naming the known ones); `rollout` (an
    `aiagents.tools.rollout.RolloutConfig`) switches tools per user; `structured` answers as `DocsAnswer`;
    `prompt` a `Prompt` (a pinned version) or a name; the other arguments go to `PromptAgent` (model, limits,
    sessions, version, label)."""
    toolset: Any = docs_toolset(retriever, mode=mode)
    if tools is not None:
        allowed = {t.strip() for t in tools if t.strip()} - {"none"}
        unknown = sorted(allowed - set(DOCS_TOOLS))
        if unknown:
            raise UserError(f"the docs agent has no tools {unknown}; it has {list(DOCS_TOOLS)}")
        toolset = toolset.filtered(lambda _ctx, tool_def: tool_def.name in allowed)
    if rollout is not None:
        from aiagents.tools.rollout import RolloutToolset

        toolset = RolloutToolset(toolset, rollout)
    output_type = DocsAnswer if structured else None
    return PromptAgent(prompt, toolsets=[toolset], output_type=output_type, **agent_kwargs)
