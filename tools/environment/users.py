"""The user's side of a multi-turn run (tau-bench's protocol).

A simulated user gets the task's instruction as its brief and the conversation so far, and answers the
agent as that customer would, revealing what it needs bit by bit; it ends the conversation by saying
``###STOP###`` (or the run stops at its turn limit). `ModelUser` is driven by any model; `ScriptedUser`
says fixed lines (offline tests); without a user a run is single-turn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from aiagents.tools.environment.model_names import resolve
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, UserPromptPart
from pydantic_ai.models import Model

from aiagents.models import SIMULATED_USER_ROLE

__all__ = ["STOP", "Conversation", "ModelUser", "ScriptedUser", "SimulatedUser"]

STOP = "###STOP###"
"""A simulated user's message containing this ends the conversation (tau-bench's convention)."""

USER_INSTRUCTIONS = (
    SIMULATED_USER_ROLE
    + """

{instruction}

Rules:
- Write only your next message to the agent, one or two sentences, as this user would.
- Do not reveal everything at once: give the information the agent asks for, when it asks.
- Never invent information the brief does not give you; if asked for it, say you do not know.
- Do not repeat the brief word for word; say things in your own words.
- When what the brief asks for is done (or cannot be done), end with the single line ###STOP###.
"""
)


class Conversation(list[str]):
    """The agent's replies so far (one text per agent turn), with what the user said: ``user_messages``."""

    def __init__(self, replies: Sequence[str] = (), user_messages: Sequence[str] = ()) -> None:
        super().__init__(replies)
        self.user_messages = list(user_messages)


class SimulatedUser(Protocol):
    """The next user message given the task and the agent's replies so far (a `Conversation`, which also
    holds what the user said); None (or a message with ``###STOP###``) ends the conversation."""

    def __call__(self, task: Any, replies: Sequence[str]) -> Awaitable[str | None]: ...


OPENING = "Hi! How can I help you today?"
"""What the agent says before the user's first message (tau-bench opens the same way)."""


class ModelUser:
    """A user simulated by a model from the task's instruction (tau-bench's LLM user)."""

    def __init__(self, model: Model | str, *, instructions: str = USER_INSTRUCTIONS) -> None:
        self.model = model
        self.instructions = instructions

    async def __call__(self, task: Any, replies: Sequence[str]) -> str | None:
        # The user model sees the conversation from its side: the agent's words are its prompts, its own
        # earlier messages its responses.
        said = list(getattr(replies, "user_messages", []))
        prompts = [OPENING, *replies]
        history: list[ModelMessage] = []
        for prompt, answer in zip(prompts, said, strict=False):
            history.append(ModelRequest(parts=[UserPromptPart(content=prompt)]))
            history.append(ModelResponse(parts=[TextPart(content=answer)]))
        agent = Agent(
            resolve(self.model), instructions=self.instructions.format(instruction=task.instruction), name="user"
        )
        result = await agent.run(prompts[len(history) // 2], message_history=history or None)
        return str(result.output).strip() or None

    async def first_message(self, task: Any) -> str | None:
        """The user's opening message."""
        return await self(task, Conversation())


class ScriptedUser:
    """Fixed user lines (offline multi-turn tests): ``opening`` first (default: the task's instruction), then
    one line per agent turn, then ``###STOP###``. ``lines`` is a list for every task, or a function of the task."""

    def __init__(
        self,
        lines: Sequence[str] | Callable[[Any], Sequence[str]],
        *,
        opening: str | None = None,
        stop: bool = True,
    ) -> None:
        self.lines = lines
        self.opening = opening
        self.stop = stop

    async def first_message(self, task: Any) -> str | None:
        """The opening line, or the task's instruction."""
        return self.opening if self.opening is not None else task.instruction

    async def __call__(self, task: Any, replies: Sequence[str]) -> str | None:
        lines = list(self.lines(task) if callable(self.lines) else self.lines)
        turn = len(replies) - 1
        if 0 <= turn < len(lines):
            return lines[turn]
        return STOP if self.stop else None
