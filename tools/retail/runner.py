"""Run an agent on retail tasks and score each run as tau-bench does.

Simplification (documented): tau-bench drives the conversation with an LLM-simulated user who reveals
the brief bit by bit and answers the agent's questions. Without a user model, the default run is a
single turn: the task's instruction is the user's message and the policy tells the agent that the
message is all the user will say and counts as confirmation. A `SimulatedUser` can be passed to hold a
multi-turn conversation (each of its messages starts a new agent run on the same history and database).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiagents.tools.retail.database import RetailData
from aiagents.tools.retail.errors import RetailRunnerError
from aiagents.tools.retail.policy import RETAIL_POLICY, RETAIL_POLICY_VERSION
from aiagents.tools.retail.scoring import GoldReplay, Score, replay_actions, score_run
from aiagents.tools.retail.tasks import RetailTask
from aiagents.tools.retail.toolset import retail_toolset
from openinference.semconv.trace import OpenInferenceSpanKindValues, SpanAttributes
from pydantic_ai import Agent, FunctionToolset, UsageLimits, capture_run_messages
from pydantic_ai.exceptions import AgentRunError
from pydantic_ai.messages import (
    ModelMessage,
    ModelResponse,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models import Model

from aiagents.tracing import get_tracer, trace_id_hex
from aiagents.trajectory import Trajectory

__all__ = [
    "AgentFactory",
    "SimulatedUser",
    "TaskRun",
    "ToolCall",
    "build_retail_agent",
    "run_task",
    "run_tasks",
]

SPAN_KIND = SpanAttributes.OPENINFERENCE_SPAN_KIND
INPUT_VALUE = SpanAttributes.INPUT_VALUE
OUTPUT_VALUE = SpanAttributes.OUTPUT_VALUE
METADATA = SpanAttributes.METADATA
USER_ID = SpanAttributes.USER_ID
CHAIN = OpenInferenceSpanKindValues.CHAIN.value

STOP = "###STOP###"
"""A simulated user's message containing this ends the conversation (tau-bench's convention)."""

AgentFactory = Callable[[FunctionToolset[Any]], Agent[Any, str]]
"""Builds the agent for one run from that run's retail toolset."""


class SimulatedUser(Protocol):
    """The user's side of a multi-turn run: the next message, or None (or one with ``###STOP###``) to end."""

    def __call__(self, task: RetailTask, replies: Sequence[str]) -> Awaitable[str | None]: ...


@dataclass(kw_only=True)
class ToolCall:
    """One tool call the agent made, with what came back."""

    name: str
    """The tool's name."""
    args: dict[str, Any] | str | None
    """The arguments as the model sent them."""
    result: str
    """The tool's result, or the retry prompt when the arguments did not validate."""
    is_error: bool
    """The result is an ``Error:`` string or a retry prompt."""


@dataclass(kw_only=True)
class TaskRun:
    """One scored run of an agent on a task."""

    task_id: str
    """The task's id."""
    reward: float
    """tau-bench's reward: 1.0 or 0.0."""
    score: Score
    """Details of the reward (state match, missing outputs, differing records)."""
    replies: list[str]
    """Every assistant text of the run, in order."""
    tool_calls: list[ToolCall]
    """Every tool call, in order."""
    error: str | None
    """Why the run stopped early (usage limit, model error), else None; the state is scored anyway."""
    seconds: float
    """Wall time of the run (the agent part, without the gold replay)."""
    policy_version: str
    """The instructions' version (`RETAIL_POLICY_VERSION` unless an agent factory was given)."""
    trace_id: str | None = None
    """The run's trace id (hex) when tracing is set up, else None."""
    messages: list[ModelMessage] = field(default_factory=list, repr=False)
    """The pydantic-ai messages of the whole run (for trajectories)."""

    def trajectory(self) -> Trajectory:
        """The run as a `Trajectory` (steps from the messages; task id, reward, policy in its metadata)."""
        trajectory = Trajectory.from_messages(self.messages, trace_id=self.trace_id)
        trajectory.metadata.update(
            {"task_id": self.task_id, "reward": self.reward, "policy_version": self.policy_version}
        )
        return trajectory

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (messages left out)."""
        return {
            "task_id": self.task_id,
            "reward": self.reward,
            "state_match": self.score.state_match,
            "missing_outputs": self.score.missing_outputs,
            "state_differences": self.score.state_differences,
            "tool_calls": [
                {"name": c.name, "args": c.args, "is_error": c.is_error, "result": c.result[:500]}
                for c in self.tool_calls
            ],
            "replies": self.replies,
            "error": self.error,
            "seconds": round(self.seconds, 3),
            "policy_version": self.policy_version,
            "trace_id": self.trace_id,
        }


def build_retail_agent(
    model: Model | str, toolset: FunctionToolset[Any], *, instructions: str = RETAIL_POLICY
) -> Agent[None, str]:
    """The default retail agent: ``model`` with the retail policy and this run's toolset."""
    return Agent(model, instructions=instructions, toolsets=[toolset], name="retail_agent")


def _replies(messages: Sequence[ModelMessage]) -> list[str]:
    return [
        part.content
        for m in messages
        if isinstance(m, ModelResponse)
        for part in m.parts
        if isinstance(part, TextPart) and part.content
    ]


def _tool_calls(messages: Sequence[ModelMessage]) -> list[ToolCall]:
    returns: dict[str, tuple[str, bool]] = {}
    for m in messages:
        for part in getattr(m, "parts", ()):
            if isinstance(part, ToolReturnPart):
                # A call whose arguments failed validation comes back with outcome 'retried' (pydantic-ai 2).
                text = part.model_response_str()
                returns[part.tool_call_id] = (text, part.outcome != "success" or text.startswith("Error:"))
            elif isinstance(part, RetryPromptPart) and part.tool_call_id:
                returns[part.tool_call_id] = (part.model_response(), True)
    calls = []
    for m in messages:
        if isinstance(m, ModelResponse):
            for part in m.parts:
                if isinstance(part, ToolCallPart):
                    result, is_error = returns.get(part.tool_call_id, ("(no result)", True))
                    calls.append(ToolCall(name=part.tool_name, args=part.args, result=result, is_error=is_error))
    return calls


async def run_task(
    task: RetailTask,
    *,
    data: RetailData,
    model: Model | str | None = None,
    agent_factory: AgentFactory | None = None,
    user: SimulatedUser | None = None,
    max_user_turns: int = 10,
    usage_limits: UsageLimits | None = None,
    gold: GoldReplay | None = None,
) -> TaskRun:
    """Run an agent on ``task`` over a fresh copy of ``data`` and score it against the gold replay.

    Give either ``model`` (the default agent: `build_retail_agent`) or ``agent_factory`` (called with
    this run's toolset). Without ``user`` the run is single-turn (see the module docstring). Model and
    usage-limit failures end the run with ``error`` set; the state reached so far is still scored.
    """
    if (model is None) == (agent_factory is None):
        raise RetailRunnerError("run_task: pass exactly one of model= or agent_factory=")
    db = data.fresh()
    toolset = retail_toolset(db)
    if agent_factory is not None:
        agent, policy_version = agent_factory(toolset), "custom"
    else:
        assert model is not None
        agent, policy_version = build_retail_agent(model, toolset), RETAIL_POLICY_VERSION
    limits = usage_limits or UsageLimits(request_limit=30)
    tracer = get_tracer("aiagents.tools.retail")
    with tracer.start_as_current_span("retail.task") as span:
        span.set_attribute(SPAN_KIND, CHAIN)
        span.set_attribute(INPUT_VALUE, task.instruction)
        span.set_attribute(USER_ID, task.user_id)
        trace_id = trace_id_hex(span)
        started = time.perf_counter()
        messages: list[ModelMessage] = []
        error: str | None = None
        message: str | None = task.instruction
        for _ in range(max_user_turns):
            with capture_run_messages() as captured:
                try:
                    result = await agent.run(message, message_history=messages or None, usage_limits=limits)
                except AgentRunError as e:
                    error = f"{type(e).__name__}: {e}"
                    messages = list(captured)
                    break
            messages = result.all_messages()
            if user is None or any(c.name == "transfer_to_human_agents" for c in _tool_calls(messages)):
                break
            message = await user(task, _replies(messages))
            if message is None or STOP in message:
                break
        seconds = time.perf_counter() - started
        replies = _replies(messages)
        gold = gold or replay_actions(task, data)
        score = score_run(task, db, replies, gold)
        span.set_attribute(OUTPUT_VALUE, replies[-1] if replies else "")
        span.set_attribute(
            METADATA,
            json.dumps(
                {
                    "task_id": task.task_id,
                    "reward": score.reward,
                    "state_match": score.state_match,
                    "policy_version": policy_version,
                    "error": error,
                }
            ),
        )
    return TaskRun(
        task_id=task.task_id,
        reward=score.reward,
        score=score,
        replies=replies,
        tool_calls=_tool_calls(messages),
        error=error,
        seconds=seconds,
        policy_version=policy_version,
        trace_id=trace_id,
        messages=messages,
    )


async def run_tasks(
    tasks: Sequence[RetailTask],
    *,
    data: RetailData,
    model: Model | str | None = None,
    model_for: Callable[[RetailTask], Model] | None = None,
    agent_factory: AgentFactory | None = None,
    concurrency: int = 1,
    on_done: Callable[[TaskRun], None] | None = None,
    **kwargs: Any,
) -> list[TaskRun]:
    """`run_task` over many tasks (at most ``concurrency`` at once), results in task order.

    ``model_for`` builds a model per task (for scripted models); ``on_done`` is called after each run.
    """
    if concurrency < 1:
        raise RetailRunnerError(f"run_tasks: concurrency must be >= 1, got {concurrency}")
    gate = asyncio.Semaphore(concurrency)

    async def one(task: RetailTask) -> TaskRun:
        async with gate:
            run = await run_task(
                task,
                data=data,
                model=model_for(task) if model_for is not None else model,
                agent_factory=agent_factory,
                **kwargs,
            )
        if on_done is not None:
            on_done(run)
        return run

    return list(await asyncio.gather(*(one(task) for task in tasks)))
