"""`ReplayModel`: play back a recorded trajectory's model turns, so a real provider's run recorded once
replays in CI at no cost.

```python
result = await agent.run("How long does a refund take?", model="openai:gpt-4.1-mini")
result.trajectory.save("tests/recordings/refund.json")          # once, with a key
...
await agent.run("How long does a refund take?", model=ReplayModel.load("tests/recordings/refund.json"))
```

Each model request returns the next recorded turn (its text and tool calls with the recorded arguments,
call ids and token counts). Before answering, the model checks that the run still matches the
recording and raises `ReplayDivergenceError` naming the step, what was expected and what happened:
the user prompt (`check_prompt`), the tool results the agent's tools returned for the previous turn
(`check_results`: tool name, error or not, content), the tools the agent offers (every recorded call
must name one), the recorded arguments against the tool's schema (required and unknown fields), and
the number of model requests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage
from pydantic_core import to_jsonable_python

from aiagents.errors import RunError
from aiagents.trajectory import ModelTurn, ToolResult, Trajectory, UserPrompt, json_text_value

__all__ = ["ReplayModel", "ReplayDivergenceError", "REPLAY_MODEL_PREFIX"]

REPLAY_MODEL_PREFIX = "replay"


class ReplayDivergenceError(RunError):
    """The run no longer matches the recording; names the step and the expected and actual values."""

    def __init__(self, message: str, *, step: int, expected: Any, actual: Any) -> None:
        super().__init__(message)
        self.step = step
        """1-based index of the recorded step that did not match."""
        self.expected = expected
        self.actual = actual


class ReplayModel(FunctionModel):
    """A pydantic-ai model answering with a recorded trajectory's model turns, in order (one per run:
    it keeps its position; `reset()` rewinds it)."""

    def __init__(
        self,
        trajectory: Trajectory,
        *,
        check_prompt: bool = True,
        check_results: bool = True,
        source: str = "<trajectory>",
    ) -> None:
        self.trajectory = trajectory
        self.check_prompt = check_prompt
        self.check_results = check_results
        self.source = source
        self._plan = _plan(trajectory)
        if not self._plan:
            raise ValueError(f"{source}: the recording has no model turns to replay")
        recorded = next((t.model_name for _, t, _ in self._plan if t.model_name), None) or "recording"
        # named like the recorded model (so a replayed trajectory equals the recording); `system` says
        # 'replay', so logs and spans show 'replay:<model>'
        super().__init__(self._respond, model_name=recorded)
        self.position = 0
        """How many recorded turns have been played."""

    @classmethod
    def load(cls, path: str | Path, **kwargs: Any) -> ReplayModel:
        """A replay of the trajectory JSON file at `path` (written by `Trajectory.save`)."""
        return cls(Trajectory.load(path), source=str(path), **kwargs)

    @property
    def system(self) -> str:
        return REPLAY_MODEL_PREFIX

    @property
    def finished(self) -> bool:
        """True when every recorded turn was played."""
        return self.position >= len(self._plan)

    def reset(self) -> None:
        self.position = 0

    def _diverged(self, step: int, what: str, expected: Any, actual: Any) -> ReplayDivergenceError:
        return ReplayDivergenceError(
            f"Replay of {self.source} diverged at step {step} (model turn {self.position + 1} of "
            f"{len(self._plan)}): {what}. Expected {expected!r}, got {actual!r}. Re-record the trajectory if "
            "the change is intended.",
            step=step,
            expected=expected,
            actual=actual,
        )

    def _respond(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if self.finished:
            raise self._diverged(
                len(self.trajectory.steps) + 1,
                "the agent asked for one more model response than recorded",
                f"{len(self._plan)} model turns",
                "another request",
            )
        step, turn, _ = self._plan[self.position]
        last = messages[-1] if messages and isinstance(messages[-1], ModelRequest) else None
        if self.position == 0 and self.check_prompt:
            recorded = next((s for s in self.trajectory.steps if isinstance(s, UserPrompt)), None)
            actual = _user_text(last)
            if recorded is not None and actual is not None and recorded.text != actual:
                index = self.trajectory.steps.index(recorded) + 1
                raise self._diverged(index, "the user prompt differs", recorded.text, actual)
        if self.position > 0 and self.check_results:
            self._check_results(last, self._plan[self.position - 1][2])
        offered = {t.name: t for t in [*info.function_tools, *info.output_tools]}
        for call in turn.tool_calls:
            tool = offered.get(call.tool_name)
            if tool is None:
                raise self._diverged(step, "the agent does not offer a recorded tool", call.tool_name, sorted(offered))
            problem = _args_problem(tool.parameters_json_schema, call.args)
            if problem:
                what = f"recorded arguments of {call.tool_name} no longer fit its schema ({problem})"
                raise self._diverged(step, what, call.args, None)
        self.position += 1
        parts: list[Any] = [TextPart(turn.text)] if turn.text else []
        parts += [ToolCallPart(c.tool_name, dict(c.args), tool_call_id=c.call_id or None) for c in turn.tool_calls]
        return ModelResponse(
            parts=parts,
            usage=RequestUsage(input_tokens=turn.usage.input_tokens, output_tokens=turn.usage.output_tokens),
        )

    def _check_results(self, request: ModelRequest | None, expected: list[tuple[int, ToolResult]]) -> None:
        actual = _results(request)
        for i, (step, want) in enumerate(expected):
            if i >= len(actual):
                raise self._diverged(step, f"no result came back for the {want.tool_name} call", want.tool_name, None)
            name, error, content = actual[i]
            if name != want.tool_name:
                raise self._diverged(step, "a tool result is from another tool", want.tool_name, name)
            if error != want.error:
                state = {True: "an error", False: "a success"}
                raise self._diverged(
                    step, f"the {name} call's outcome differs", state[want.error], f"{state[error]}: {content!r}"
                )
            if _norm(content) != _norm(want.content):
                raise self._diverged(step, f"the {name} tool returned something else", want.content, content)


def _plan(trajectory: Trajectory) -> list[tuple[int, ModelTurn, list[tuple[int, ToolResult]]]]:
    """(1-based step index, turn, [(step index, result) answering its calls]) per recorded model turn."""
    plan: list[tuple[int, ModelTurn, list[tuple[int, ToolResult]]]] = []
    for index, s in enumerate(trajectory.steps, start=1):
        if isinstance(s, ModelTurn):
            plan.append((index, s, []))
        elif isinstance(s, ToolResult) and plan:
            plan[-1][2].append((index, s))
    return plan


def _user_text(request: ModelRequest | None) -> str | None:
    if request is None:
        return None
    texts = [p.content for p in request.parts if isinstance(p, UserPromptPart) and isinstance(p.content, str)]
    return "\n".join(texts) if texts else None


def _results(request: ModelRequest | None) -> list[tuple[str, bool, Any]]:
    out: list[tuple[str, bool, Any]] = []
    for part in request.parts if request is not None else []:
        if isinstance(part, ToolReturnPart):
            out.append((part.tool_name, part.outcome in ("failed", "retried", "denied"), part.content))
        elif isinstance(part, RetryPromptPart) and part.tool_name:
            out.append((part.tool_name, True, part.content))
    return out


def _norm(value: Any) -> Any:
    """A tool result as JSON data. Text that is JSON compares as the data it holds: a trace read back from Phoenix
    gives a tool's JSON-string result as an object, while the live run returns the string (or the reverse)."""
    return json_text_value(to_jsonable_python(value, fallback=str))


def _args_problem(schema: dict[str, Any], args: dict[str, Any]) -> str:
    if "_raw" in args:
        return ""  # recorded as invalid JSON: the agent's retry is part of the recording
    props = schema.get("properties", {})
    missing = [k for k in schema.get("required", []) if k not in args]
    unknown = [k for k in args if k not in props] if schema.get("additionalProperties") is False else []
    parts = ([f"missing {missing}"] if missing else []) + ([f"unknown {unknown}"] if unknown else [])
    return ", ".join(parts)
