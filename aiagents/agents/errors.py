"""Errors of agent runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiagents.errors import RunError

if TYPE_CHECKING:
    from aiagents.trajectory import Trajectory

__all__ = ["AgentRunFailed", "UsageLimitError"]


class AgentRunFailed(RunError):
    """The run failed (a tool kept failing past its retries, the model misbehaved, ...).

    `trajectory` holds the steps made before the failure; `trace_id` points at the trace.
    """

    def __init__(self, message: str, *, trajectory: Trajectory | None = None, trace_id: str | None = None) -> None:
        super().__init__(message)
        self.trajectory = trajectory
        self.trace_id = trace_id


class UsageLimitError(AgentRunFailed):
    """A usage limit ended the run; `limit` names it (e.g. 'max_tool_calls') and `value` is its setting."""

    def __init__(
        self,
        message: str,
        *,
        limit: str,
        value: Any,
        trajectory: Trajectory | None = None,
        trace_id: str | None = None,
    ) -> None:
        super().__init__(message, trajectory=trajectory, trace_id=trace_id)
        self.limit = limit
        self.value = value
