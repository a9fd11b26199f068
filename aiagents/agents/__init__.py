"""Agents: tool-using pydantic-ai agents built from versioned prompts, with limits, sessions and traces.

```python
from aiagents.agents import PromptAgent, DocsAnswer
agent = PromptAgent("docs-agent", toolsets=[toolset], output_type=DocsAnswer)
result = agent.run_sync("How long does a refund take?", session_id="s1", user_id="u1")
print(result.output, result.trajectory.tool_calls(), result.trace_id)
```
"""

from aiagents.agents.agent import AgentResult, PromptAgent
from aiagents.agents.errors import AgentRunFailed, UsageLimitError
from aiagents.agents.limits import DEFAULT_LIMITS, Limits
from aiagents.agents.outputs import DocsAnswer
from aiagents.agents.sessions import SESSIONS_FILE, SessionInfo, SessionStore
from aiagents.agents.tracing import RunAttributesProcessor, RunScope, ensure_processor, run_scope

__all__ = [
    # agent
    "PromptAgent",
    "AgentResult",
    "DocsAnswer",
    # limits
    "Limits",
    "DEFAULT_LIMITS",
    # sessions
    "SessionStore",
    "SessionInfo",
    "SESSIONS_FILE",
    # tracing
    "RunScope",
    "run_scope",
    "RunAttributesProcessor",
    "ensure_processor",
    # errors
    "AgentRunFailed",
    "UsageLimitError",
]
