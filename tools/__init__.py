"""Agent tools and toolsets. Each environment or toolset is a subpackage, imported on its own:

- `aiagents.tools.retail`: the tau-bench retail shop (16 tools over a mock database, gold replay, task runner).
- `aiagents.tools.base`: the conventions every tool follows (`make_toolset`: docstring schemas, retries, timeouts,
  approval for side effects; `ToolError` / `retry_on` send failures back to the model as retries).
- `aiagents.tools.docs`: `search_docs` and `fetch_document` over any retriever (`docs_toolset(retriever)`).
- `aiagents.tools.rollout`: switch tools on, off, for a sticky share of users or an allow-list by configuration
  (`RolloutToolset`, `load_rollout`); the decision is recorded on the agent's trace.
"""
