"""`Trajectory`: the ordered steps of one agent run, the object evals judge.

Built from pydantic-ai messages (`Trajectory.from_messages(result.all_messages())`) or, later, from the
spans of a trace read back from Phoenix (hence the optional span ids), so that a production trace and a
test run give the same object. Saved and loaded as JSON without loss (`to_json` / `from_json`).

Step order: a `ModelTurn` (what the model said and which tools it asked for), then one `ToolCall` step
per requested call, then the `ToolResult` of each call, then the next `ModelTurn`, ..., and a
`FinalOutput` last. The calls requested in a `ModelTurn` are repeated as `ToolCall` steps so that
step-level evaluators walk one flat list; `Trajectory.tool_calls()` returns those steps.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter
from pydantic_ai import messages as _m
from pydantic_ai.usage import RunUsage

from aiagents.errors import UserError

__all__ = [
    "Usage",
    "UserPrompt",
    "ModelTurn",
    "ToolCall",
    "ToolResult",
    "FinalOutput",
    "Step",
    "Trajectory",
    "TrajectoryFileError",
    "DEFAULT_OUTPUT_TOOL_PREFIX",
]

DEFAULT_OUTPUT_TOOL_PREFIX = "final_result"
"""pydantic-ai names its structured-output tools `final_result` (or `final_result_<Type>`)."""


class TrajectoryFileError(UserError):
    """A trajectory JSON file cannot be read (names the file and the problem)."""


@dataclass(kw_only=True)
class Usage:
    """Token and request counts (of one model turn, or summed over a run)."""

    requests: int = 0
    """Model requests made (1 for a single turn)."""
    input_tokens: int = 0
    """Prompt tokens, cached ones included."""
    output_tokens: int = 0
    """Completion tokens."""
    cost_usd: float | None = None
    """Cost in US dollars when the provider or a price table gave one."""

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        cost = (
            None
            if self.cost_usd is None and other.cost_usd is None
            else ((self.cost_usd or 0.0) + (other.cost_usd or 0.0))
        )
        return Usage(
            requests=self.requests + other.requests,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cost_usd=cost,
        )


@dataclass(kw_only=True)
class UserPrompt:
    """A user message that started (or continued, in a session) the run."""

    text: str
    """The prompt text (non-text content is rendered with `str`)."""
    timestamp: datetime | None = None
    """When the prompt was sent."""
    span_id: str | None = None
    """Span id when built from a trace."""
    kind: Literal["user_prompt"] = "user_prompt"


@dataclass(kw_only=True)
class ToolCall:
    """One tool call: the tool's name and its arguments."""

    tool_name: str
    """Name of the tool as the model called it."""
    args: dict[str, Any] = field(default_factory=dict)
    """Arguments as a JSON object (a string the model sent that is not a JSON object is kept under `_raw`)."""
    call_id: str = ""
    """Provider's id tying the call to its result."""
    span_id: str | None = None
    """Id of the TOOL span when built from a trace."""
    kind: Literal["tool_call"] = "tool_call"


@dataclass(kw_only=True)
class ModelTurn:
    """One model response: its text and the tool calls it requested."""

    text: str = ""
    """Text parts joined with newlines (empty when the model only called tools)."""
    tool_calls: list[ToolCall] = field(default_factory=list)
    """Tool calls the model requested in this turn, in order."""
    usage: Usage = field(default_factory=Usage)
    """Tokens of this request."""
    model_name: str | None = None
    """Model that produced the response."""
    timestamp: datetime | None = None
    """When the response was received."""
    duration_s: float | None = None
    """Request latency in seconds when known (from spans; messages only carry timestamps)."""
    span_id: str | None = None
    """Id of the LLM span when built from a trace."""
    kind: Literal["model_turn"] = "model_turn"


@dataclass(kw_only=True)
class ToolResult:
    """What a tool call returned: content, or an error that was sent back to the model as a retry."""

    call_id: str = ""
    """Id of the `ToolCall` this answers."""
    tool_name: str
    """Name of the tool."""
    content: Any = None
    """Returned content (JSON-compatible) or the error text on failure."""
    error: bool = False
    """True when the call failed (exception, validation error, unknown tool)."""
    retry: bool = False
    """True when the failure was sent back to the model as a retry prompt."""
    timestamp: datetime | None = None
    """When the result was produced."""
    span_id: str | None = None
    """Id of the TOOL span when built from a trace."""
    kind: Literal["tool_result"] = "tool_result"


@dataclass(kw_only=True)
class FinalOutput:
    """The run's output: text, or the structured output (JSON-compatible)."""

    output: Any = None
    """The output value."""
    tool_name: str | None = None
    """Output tool that carried it, when structured output went through a tool."""
    kind: Literal["final_output"] = "final_output"


Step = Annotated[UserPrompt | ModelTurn | ToolCall | ToolResult | FinalOutput, Field(discriminator="kind")]
"""One step of a trajectory (discriminated by `kind` in JSON)."""


@dataclass(kw_only=True)
class Trajectory:
    """The ordered steps of one run, with run-level usage, timing and ids."""

    steps: list[Step] = field(default_factory=list)
    """Steps in the order they happened."""
    usage: Usage = field(default_factory=Usage)
    """Usage summed over the run."""
    duration_s: float | None = None
    """Wall time of the run in seconds (first to last timestamp when built from messages)."""
    run_id: str | None = None
    """pydantic-ai run id."""
    trace_id: str | None = None
    """OpenTelemetry trace id (hex) when known."""
    session_id: str | None = None
    """Session (conversation) id when the run belongs to a multi-turn session."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Free-form extras (model, prompt version, user id, ...)."""

    # --- views -------------------------------------------------------------------------------------------
    def tool_calls(self, *, include_output_tools: bool = False) -> list[ToolCall]:
        """The `ToolCall` steps in order (structured-output tool calls excluded unless asked)."""
        calls = [s for s in self.steps if isinstance(s, ToolCall)]
        if include_output_tools:
            return calls
        out_ids = {s.tool_name for s in self.steps if isinstance(s, FinalOutput) and s.tool_name}
        return [c for c in calls if c.tool_name not in out_ids]

    def model_turns(self) -> list[ModelTurn]:
        return [s for s in self.steps if isinstance(s, ModelTurn)]

    def tool_results(self) -> list[ToolResult]:
        return [s for s in self.steps if isinstance(s, ToolResult)]

    def result_of(self, call: ToolCall) -> ToolResult | None:
        """The result answering `call` (by call id, else the next result of the same tool)."""
        results = self.tool_results()
        if call.call_id:
            for r in results:
                if r.call_id == call.call_id:
                    return r
        idx = next((i for i, s in enumerate(self.steps) if s is call), -1)
        for s in self.steps[idx + 1 :]:
            if isinstance(s, ToolResult) and s.tool_name == call.tool_name:
                return s
        return None

    @property
    def output(self) -> Any:
        """The final output value, or None when the run has no `FinalOutput` step."""
        finals = [s for s in self.steps if isinstance(s, FinalOutput)]
        return finals[-1].output if finals else None

    # --- building ------------------------------------------------------------------------------------------
    @classmethod
    def from_messages(
        cls,
        messages: Sequence[_m.ModelMessage],
        *,
        output: Any = None,
        output_tool_prefix: str = DEFAULT_OUTPUT_TOOL_PREFIX,
        usage: RunUsage | None = None,
        trace_id: str | None = None,
        session_id: str | None = None,
    ) -> Trajectory:
        """Build from pydantic-ai messages (`result.all_messages()`).

        `output` (e.g. `result.output`) becomes the `FinalOutput`; without it the output is taken from the
        last output-tool call's arguments, else the last model text. `usage` (e.g. `result.usage`)
        overrides the sum of per-response usage (it also counts requests that failed).
        """
        steps: list[Step] = []
        total = Usage()
        out_tool: tuple[str, Any] | None = None
        last_text = ""
        run_id: str | None = None
        conv_id: str | None = None
        stamps: list[datetime] = []
        for msg in messages:
            run_id = run_id or getattr(msg, "run_id", None)
            conv_id = conv_id or getattr(msg, "conversation_id", None)
            if isinstance(msg, _m.ModelResponse):
                turn_usage = Usage(
                    requests=1,
                    input_tokens=msg.usage.input_tokens,
                    output_tokens=msg.usage.output_tokens,
                    cost_usd=_cost(msg.usage),
                )
                total = total + turn_usage
                texts = [p.content for p in msg.parts if isinstance(p, _m.TextPart)]
                calls = [
                    ToolCall(tool_name=p.tool_name, args=_args_dict(p), call_id=p.tool_call_id or "")
                    for p in msg.parts
                    if isinstance(p, _m.ToolCallPart)
                ]
                text = "\n".join(texts)
                if text:
                    last_text = text
                steps.append(
                    ModelTurn(
                        text=text,
                        tool_calls=calls,
                        usage=turn_usage,
                        model_name=msg.model_name,
                        timestamp=msg.timestamp,
                    )
                )
                stamps.append(msg.timestamp)
                for c in calls:
                    if c.tool_name.startswith(output_tool_prefix):
                        out_tool = (c.tool_name, c.args)
                    # copies: the turn keeps what was requested, the step list what ran
                    steps.append(ToolCall(tool_name=c.tool_name, args=dict(c.args), call_id=c.call_id))
            elif isinstance(msg, _m.ModelRequest):
                if msg.timestamp is not None:
                    stamps.append(msg.timestamp)
                for part in msg.parts:
                    if isinstance(part, _m.UserPromptPart):
                        text = part.content if isinstance(part.content, str) else _render(part.content)
                        steps.append(UserPrompt(text=text, timestamp=part.timestamp))
                    elif isinstance(part, _m.ToolReturnPart):
                        if part.tool_name.startswith(output_tool_prefix) and part.outcome == "success":
                            continue  # "Final result processed." is bookkeeping, not a tool result
                        failed = part.outcome in ("failed", "retried", "denied")
                        steps.append(
                            ToolResult(
                                call_id=part.tool_call_id or "",
                                tool_name=part.tool_name,
                                content=_jsonable(part.content),
                                error=failed,
                                retry=part.outcome == "retried",
                                timestamp=part.timestamp,
                            )
                        )
                    elif isinstance(part, _m.RetryPromptPart) and part.tool_name:
                        content = part.content if isinstance(part.content, str) else _jsonable(part.content)
                        steps.append(
                            ToolResult(
                                call_id=part.tool_call_id or "",
                                tool_name=part.tool_name,
                                content=content,
                                error=True,
                                retry=True,
                                timestamp=part.timestamp,
                            )
                        )
        if output is not None:
            steps.append(FinalOutput(output=_jsonable(output), tool_name=out_tool[0] if out_tool else None))
        elif out_tool is not None:
            steps.append(FinalOutput(output=out_tool[1], tool_name=out_tool[0]))
        elif last_text:
            steps.append(FinalOutput(output=last_text))
        if usage is not None:
            total = Usage(
                requests=usage.requests,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cost_usd=total.cost_usd,
            )
        duration = (max(stamps) - min(stamps)).total_seconds() if len(stamps) >= 2 else None
        return cls(
            steps=steps,
            usage=total,
            duration_s=duration,
            run_id=run_id,
            trace_id=trace_id,
            session_id=session_id or conv_id,
        )

    # --- JSON ------------------------------------------------------------------------------------------
    def to_json(self, *, indent: int | None = None) -> str:
        """Serialise to JSON (datetimes as ISO 8601; `from_json` gives back an equal object)."""
        return _ADAPTER.dump_json(self, indent=indent).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> Trajectory:
        """Parse what `to_json` wrote."""
        return _ADAPTER.validate_json(text)

    def save(self, path: Any) -> None:
        """Write to a JSON file."""
        from pathlib import Path

        Path(path).write_text(self.to_json(indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Any) -> Trajectory:
        """Read a JSON file written by `save`; errors name the file."""
        from pathlib import Path

        p = Path(path)
        try:
            return cls.from_json(p.read_bytes())
        except FileNotFoundError as e:
            raise TrajectoryFileError(f"{p}: no such trajectory file") from e
        except ValueError as e:  # pydantic.ValidationError is a ValueError
            raise TrajectoryFileError(f"{p}: not a trajectory JSON file: {e}") from e


_ADAPTER: TypeAdapter[Trajectory] = TypeAdapter(Trajectory)


def _args_dict(part: _m.ToolCallPart) -> dict[str, Any]:
    try:
        return part.args_as_dict()
    except (ValueError, AssertionError, TypeError):
        return {"_raw": part.args if isinstance(part.args, str) else json.dumps(part.args, default=str)}


def _cost(u: _m.RequestUsage) -> float | None:
    cost = getattr(u, "cost", None)
    if cost is None:
        return None
    try:
        return float(cost)
    except (TypeError, ValueError):
        return None


def _render(content: Iterable[Any]) -> str:
    return "\n".join(c if isinstance(c, str) else str(c) for c in content)


def _jsonable(value: Any) -> Any:
    """A JSON-compatible copy (pydantic models, dataclasses, datetimes...), so save/load is lossless."""
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value, fallback=str)
