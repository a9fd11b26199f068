"""Run an agent on retail tasks and score each run as tau-bench does: the general runner
(`aiagents.tools.environment.runner`) on the `RETAIL` environment.

Single-turn by default: the task's instruction is the user's message and the policy tells the agent that
the message is all the user will say and counts as confirmation. A `SimulatedUser` (`ModelUser`,
`ScriptedUser`) holds tau-bench's multi-turn conversation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aiagents.tools.environment.database import EnvironmentData
from aiagents.tools.environment.errors import EnvironmentRunnerError
from aiagents.tools.environment.runner import AgentFactory, TaskRun, ToolCall
from aiagents.tools.environment.runner import run_task as run_environment_task
from aiagents.tools.environment.runner import run_tasks as run_environment_tasks
from aiagents.tools.environment.users import SimulatedUser
from aiagents.tools.retail.environment import RETAIL
from aiagents.tools.retail.errors import RetailRunnerError
from aiagents.tools.retail.policy import RETAIL_POLICY
from aiagents.tools.retail.tasks import RetailTask
from pydantic_ai import Agent, FunctionToolset
from pydantic_ai.models import Model

__all__ = [
    "AgentFactory",
    "SimulatedUser",
    "TaskRun",
    "ToolCall",
    "build_retail_agent",
    "run_task",
    "run_tasks",
]


def build_retail_agent(
    model: Model | str, toolset: FunctionToolset[Any], *, instructions: str = RETAIL_POLICY
) -> Agent[None, str]:
    """The default retail agent: ``model`` with the retail policy and this run's toolset."""
    return Agent(model, instructions=instructions, toolsets=[toolset], name="retail_agent")


async def run_task(task: RetailTask, *, data: EnvironmentData, **kwargs: Any) -> TaskRun:
    """Run an agent on ``task`` over a fresh copy of the shop and score it (see the general `run_task`)."""
    try:
        return await run_environment_task(RETAIL, task, data=data, **kwargs)
    except EnvironmentRunnerError as e:
        raise RetailRunnerError(str(e)) from None


async def run_tasks(
    tasks: Sequence[RetailTask],
    *,
    data: EnvironmentData,
    on_done: Callable[[TaskRun], None] | None = None,
    **kwargs: Any,
) -> list[TaskRun]:
    """`run_task` over many tasks (``concurrency``, ``k`` trials, ``model_for``: see the general `run_tasks`)."""
    try:
        return await run_environment_tasks(RETAIL, tasks, data=data, on_done=on_done, **kwargs)
    except EnvironmentRunnerError as e:
        raise RetailRunnerError(str(e)) from None
