"""Run an agent on an environment's tasks and score each run as tau-bench does.

Single-turn by default: the task's instruction is the user's one message and the agent is told it counts as
confirmation. With a `SimulatedUser` the run is tau-bench's multi-turn protocol: the user opens, each of its
messages starts an agent turn on the same history and database, and it ends with ``###STOP###``, a transfer
to a human, or the turn limit. `run_tasks(..., k=K)` runs every task K times for pass^k.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiagents.tools.environment.database import EnvironmentData
from aiagents.tools.environment.errors import EnvironmentRunnerError
from aiagents.tools.environment.scoring import GoldReplay, Score, score_run
from aiagents.tools.environment.users import STOP, Conversation, SimulatedUser
from openinference.semconv.trace import OpenInferenceSpanKindValues, SpanAttributes
from pydantic_ai import Agent, UsageLimits, capture_run_messages
from pydantic_ai.exceptions import AgentRunError
from pydantic_ai.messages import ModelMessage, ModelResponse, RetryPromptPart, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models import Model
from pydantic_ai.toolsets import AbstractToolset

from aiagents.tracing import get_tracer, trace_id_hex
from aiagents.trajectory import Trajectory

if TYPE_CHECKING:
    from aiagents.tools.environment.environment import Environment

__all__ = ["AgentFactory", "TaskRun", "ToolCall", "run_task", "run_tasks"]

SPAN_KIND = SpanAttributes.OPENINFERENCE_SPAN_KIND
CHAIN = OpenInferenceSpanKindValues.CHAIN.value

SINGLE_TURN_NOTE = """\
- This conversation has no back-and-forth: the customer's message states everything they want and
  counts as their explicit confirmation. Carry out exactly what they ask, no more, then reply with a
  short summary including any numbers they asked for.
"""
MULTI_TURN_NOTE = """\
- Before an action that changes the database, list what you will do and obtain the user's explicit
  confirmation (yes) to proceed. Ask for what you need one question at a time.
"""

AgentFactory = Callable[[AbstractToolset[Any]], Agent[Any, str]]
"""Builds the agent for one run from that run's toolset."""


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
    """The instructions' version (the environment's, ``custom`` with an agent factory)."""
    trace_id: str | None = None
    """The run's trace id (hex) when tracing is set up, else None."""
    trial: int = 0
    """Which of the k trials of this task (0-based)."""
    user_messages: list[str] = field(default_factory=list)
    """What the (simulated) user said, in order."""
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
            "trial": self.trial,
            "reward": self.reward,
            "state_match": self.score.state_match,
            "missing_outputs": self.score.missing_outputs,
            "state_differences": self.score.state_differences,
            "state_diff": self.score.state_diff,
            "tool_calls": [
                {"name": c.name, "args": c.args, "is_error": c.is_error, "result": c.result[:500]}
                for c in self.tool_calls
            ],
            "user_messages": self.user_messages,
            "replies": self.replies,
            "error": self.error,
            "seconds": round(self.seconds, 3),
            "policy_version": self.policy_version,
            "trace_id": self.trace_id,
        }


def _replies(messages: Sequence[ModelMessage]) -> list[str]:
    return [
        part.content
        for m in messages
        if isinstance(m, ModelResponse)
        for part in m.parts
        if isinstance(part, TextPart) and part.content
    ]


def tool_calls(messages: Sequence[ModelMessage]) -> list[ToolCall]:
    """Every tool call in ``messages`` with its result (a retry prompt when its arguments did not validate)."""
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
    env: Environment,
    task: Any,
    *,
    data: EnvironmentData,
    model: Model | str | None = None,
    agent_factory: AgentFactory | None = None,
    user: SimulatedUser | None = None,
    max_user_turns: int = 10,
    usage_limits: UsageLimits | None = None,
    gold: GoldReplay | None = None,
    trial: int = 0,
) -> TaskRun:
    """Run an agent on ``task`` over a fresh copy of ``data`` and score it against the gold replay.

    Give either ``model`` (the environment's agent: its policy and toolset) or ``agent_factory`` (called with
    this run's toolset). Without ``user`` the run is single-turn (see the module docstring). Model and
    usage-limit failures end the run with ``error`` set; the state reached so far is still scored.
    """
    if (model is None) == (agent_factory is None):
        raise EnvironmentRunnerError("run_task: pass exactly one of model= or agent_factory=")
    db = data.fresh()
    toolset = env.toolset(db)
    if agent_factory is not None:
        agent, policy_version = agent_factory(toolset), "custom"
    else:
        assert model is not None
        agent = env.agent(model, toolset, multi_turn=user is not None)
        policy_version = env.policy_version + ("+multi-turn" if user is not None else "")
    limits = usage_limits or UsageLimits(request_limit=30)
    tracer = get_tracer("aiagents.tools.environment")
    with tracer.start_as_current_span(f"{env.name}.task") as span:
        span.set_attribute(SPAN_KIND, CHAIN)
        span.set_attribute(SpanAttributes.INPUT_VALUE, task.instruction)
        if getattr(task, "user_id", None):
            span.set_attribute(SpanAttributes.USER_ID, task.user_id)
        trace_id = trace_id_hex(span)
        started = time.perf_counter()
        messages: list[ModelMessage] = []
        error: str | None = None
        turns: list[str] = []
        said: list[str] = []
        try:
            opening = getattr(user, "first_message", None)
            message: str | None = await opening(task) if opening is not None else task.instruction
        except Exception as e:  # noqa: BLE001 - a failing user model ends the run, scored like any other
            message, error = None, f"user: {type(e).__name__}: {e}"
        for _ in range(max_user_turns):
            if message is None or STOP in message:
                break
            said.append(message)
            with capture_run_messages() as captured:
                try:
                    result = await agent.run(message, message_history=messages or None, usage_limits=limits)
                except AgentRunError as e:
                    error = f"{type(e).__name__}: {e}"
                    messages = list(captured)
                    break
            messages = result.all_messages()
            turns.append(str(result.output))
            if user is None or any(c.name == "transfer_to_human_agents" for c in tool_calls(result.new_messages())):
                break
            try:
                message = await user(task, Conversation(turns, said))
            except Exception as e:  # noqa: BLE001 - see above
                error = f"user: {type(e).__name__}: {e}"
                break
        seconds = time.perf_counter() - started
        replies = _replies(messages)
        gold = gold or await env.replay(task, data)
        score = score_run(task, db, replies, gold)
        span.set_attribute(SpanAttributes.OUTPUT_VALUE, replies[-1] if replies else "")
        span.set_attribute(
            SpanAttributes.METADATA,
            json.dumps(
                {
                    "environment": env.name,
                    "task_id": task.task_id,
                    "trial": trial,
                    "reward": score.reward,
                    "state_match": score.state_match,
                    "policy_version": policy_version,
                    "user_turns": len(said),
                    "error": error,
                }
            ),
        )
    return TaskRun(
        task_id=task.task_id,
        reward=score.reward,
        score=score,
        replies=replies,
        tool_calls=tool_calls(messages),
        error=error,
        seconds=seconds,
        policy_version=policy_version,
        trace_id=trace_id,
        trial=trial,
        user_messages=said,
        messages=messages,
    )


async def run_tasks(
    env: Environment,
    tasks: Sequence[Any],
    *,
    data: EnvironmentData,
    model: Model | str | None = None,
    model_for: Callable[[Any], Model] | None = None,
    agent_factory: AgentFactory | None = None,
    k: int = 1,
    concurrency: int = 1,
    on_done: Callable[[TaskRun], None] | None = None,
    **kwargs: Any,
) -> list[TaskRun]:
    """`run_task` over many tasks, ``k`` trials each (at most ``concurrency`` at once), in task then trial order.

    ``model_for`` builds a model per task (for scripted models); ``on_done`` is called after each run.
    """
    if concurrency < 1:
        raise EnvironmentRunnerError(f"run_tasks: concurrency must be >= 1, got {concurrency}")
    if k < 1:
        raise EnvironmentRunnerError(f"run_tasks: k must be >= 1, got {k}")
    gate = asyncio.Semaphore(concurrency)
    golds = {task.task_id: await env.replay(task, data) for task in tasks}

    async def one(task: Any, trial: int) -> TaskRun:
        async with gate:
            run = await run_task(
                env,
                task,
                data=data,
                model=model_for(task) if model_for is not None else model,
                agent_factory=agent_factory,
                gold=golds[task.task_id],
                trial=trial,
                **kwargs,
            )
        if on_done is not None:
            on_done(run)
        return run

    return list(await asyncio.gather(*(one(task, trial) for task in tasks for trial in range(k))))
