"""Agent tools and toolsets. The conventions are exported here; each environment or toolset is a subpackage:

- `aiagents.tools.base`: the conventions every tool follows (`make_toolset`: docstring schemas, retries, timeouts,
  approval for side effects; `ToolError` / `retry_on` send failures back to the model as retries).
- `aiagents.tools.environment`: agent environments of any domain (tau-bench style): tables, a toolset, a policy
  and task files; gold replay, multi-turn runs with a simulated user, pass^k.
- `aiagents.tools.retail`: the tau-bench retail shop, an `Environment` of 16 tools (`make_toolset`).
- `aiagents.tools.docs`: `search_docs` and `fetch_document` over any retriever (`docs_toolset(retriever)`).
- `aiagents.tools.rollout`: switch tools on, off, for a sticky share of users or an allow-list by configuration
  (`RolloutToolset`, `load_rollout`); the decision is recorded on the agent's trace.
"""

from __future__ import annotations

from aiagents.tools.base import DEFAULT_TOOL_RETRIES, DEFAULT_TOOL_TIMEOUT_S, ToolError, make_toolset, retry_on

__all__ = ["DEFAULT_TOOL_RETRIES", "DEFAULT_TOOL_TIMEOUT_S", "ToolError", "make_toolset", "retry_on"]
