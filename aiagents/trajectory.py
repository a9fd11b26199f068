"""`Trajectory`: the ordered steps of one agent run, the object evals judge.

Built from pydantic-ai messages (`Trajectory.from_messages(result.all_messages())`) or from the spans of a
trace read back from Phoenix (`Trajectory.from_spans(client.spans.get_spans(...))`, which also fills the
span ids and timings), so that a production trace and a test run give the same object
(`a.comparable() == b.comparable()`). Saved and loaded as JSON without loss (`to_json` / `from_json`).

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
from aiagents.usage import CallUsage

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
    "json_text_value",
]

DEFAULT_OUTPUT_TOOL_PREFIX = "final_result"
"""pydantic-ai names its structured-output tools `final_result` (or `final_result_<Type>`)."""


class TrajectoryFileError(UserError):
    """A trajectory JSON file cannot be read (names the file and the problem)."""


Usage = CallUsage
"""Token and request counts of one model turn or summed over a run (the model layer's `CallUsage`)."""


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

    @classmethod
    def from_spans(
        cls,
        spans: Any,
        *,
        trace_id: str | None = None,
        agent_span_id: str | None = None,
        output_tool_prefix: str = DEFAULT_OUTPUT_TOOL_PREFIX,
    ) -> Trajectory:
        """Build from the spans of one agent run, as read back from Phoenix or captured in process.

        `spans` is any of: the Phoenix client's `spans.get_spans(...)` list, its
        `spans.get_spans_dataframe(...)` frame, or OpenTelemetry `ReadableSpan`s. The run is the AGENT
        span (`agent_span_id`, else the only top-level one, within `trace_id` when given); its LLM spans
        give the model turns (`gen_ai.output.messages`, token counts) and its TOOL spans the tool results
        (`gen_ai.tool.call.result`, an exception event marks an error sent back as a retry).

        Equal to `from_messages` on the same run in steps, texts, tool names, arguments, call ids,
        results, final output, token counts, ids and metadata; not in timing (`timestamp`,
        `duration_s`), which spans measure and messages only stamp, nor `span_id`: compare
        `a.comparable() == b.comparable()`. Tool results are read from the model request that carried
        them, so a string holding JSON stays a string and a dict a dict (the TOOL span keeps JSON text only, the
        fallback for a call no model request followed). A call that never ran has no TOOL span: its result is read
        from the next model request and marked an error (unknown tool, invalid output arguments; in a
        run resumed after approvals, a denied call).
        """
        records = _span_records(spans)
        if trace_id is not None:
            records = [r for r in records if r.trace_id == trace_id]
        agent = _span_pick_agent(records, agent_span_id)
        inside = _span_descendants(records, agent)
        llms = [r for r in inside if r.operation == "chat"]
        tool_spans = {str(r.attrs.get("gen_ai.tool.call.id")): r for r in inside if r.operation == "execute_tool"}
        steps: list[Step] = []
        total = Usage()
        prompt = _span_user_prompt(llms[0]) if llms else None
        if prompt is not None:
            steps.append(UserPrompt(text=prompt, timestamp=agent.start))
        elif llms:  # a resumed run (approvals): it starts with the results of the calls decided on
            needs_approval = _span_unapproved_tools(llms[0])
            for call_id, name, content in _span_tool_replies(llms[0]):
                span = tool_spans.get(call_id)
                if span is None and name not in needs_approval:
                    continue  # ran in the run that stopped for approval (its TOOL span is in that trace)
                steps.append(
                    ToolResult(
                        call_id=call_id,
                        tool_name=name,
                        content=content,  # as the model read it (JSON text stays text)
                        error=span.failed if span else True,  # no span: the call was denied, never ran
                        retry=span.failed if span else False,
                        timestamp=span.end if span else agent.start,
                        span_id=span.span_id if span else None,
                    )
                )
        out_tool: tuple[str, Any] | None = None
        last_text = ""
        for i, llm in enumerate(llms):
            texts, calls_raw = _span_output_parts(llm)
            turn_usage = Usage(
                requests=1,
                input_tokens=int(llm.attrs.get("gen_ai.usage.input_tokens") or 0),
                output_tokens=int(llm.attrs.get("gen_ai.usage.output_tokens") or 0),
            )
            total = total + turn_usage
            calls = [ToolCall(tool_name=n, args=a, call_id=c) for n, a, c in calls_raw]
            text = "\n".join(texts)
            last_text = text or last_text
            steps.append(
                ModelTurn(
                    text=text,
                    tool_calls=calls,
                    usage=turn_usage,
                    model_name=llm.attrs.get("gen_ai.response.model") or llm.attrs.get("gen_ai.request.model"),
                    timestamp=llm.end,
                    duration_s=llm.duration_s,
                    span_id=llm.span_id,
                )
            )
            for c in calls:
                if c.tool_name.startswith(output_tool_prefix):
                    out_tool = (c.tool_name, c.args)
                span = tool_spans.get(c.call_id)
                steps.append(
                    ToolCall(tool_name=c.tool_name, args=dict(c.args), call_id=c.call_id, span_id=span and span.span_id)
                )
            replies = {c: r for c, _, r in _span_tool_replies(llms[i + 1])} if i + 1 < len(llms) else {}
            for c in calls:
                span = tool_spans.get(c.call_id)
                if span is not None:
                    failed = span.failed
                    # The next model request holds the result as the tool returned it (JSON text stays text);
                    # the TOOL span's attribute is JSON text either way, so it is the fallback (the last call).
                    content = (
                        replies[c.call_id]
                        if c.call_id in replies
                        else json_text_value(span.attrs.get("gen_ai.tool.call.result"))
                    )
                    steps.append(
                        ToolResult(
                            call_id=c.call_id,
                            tool_name=c.tool_name,
                            content=content,
                            error=failed,
                            retry=failed,
                            timestamp=span.end,
                            span_id=span.span_id,
                        )
                    )
                elif c.call_id in replies:
                    # no TOOL span: the call failed before running (unknown tool, invalid output arguments)
                    steps.append(
                        ToolResult(
                            call_id=c.call_id,
                            tool_name=c.tool_name,
                            content=replies[c.call_id],
                            error=True,
                            retry=True,
                            timestamp=llms[i + 1].start,
                        )
                    )
        final = agent.attrs.get("final_result")
        if _is_deferred(json_text_value(final)):
            final = None  # the run stopped for approvals: no output (as from_messages)
        if final is not None and out_tool is not None:
            steps.append(FinalOutput(output=json_text_value(final), tool_name=out_tool[0]))
        elif final is not None:
            steps.append(FinalOutput(output=final))
        elif last_text:
            steps.append(FinalOutput(output=last_text))
        return cls(
            steps=steps,
            usage=total,
            duration_s=agent.duration_s,
            run_id=agent.attrs.get("gen_ai.agent.call.id"),
            trace_id=agent.trace_id,
            session_id=agent.attrs.get("session.id") or agent.attrs.get("gen_ai.conversation.id"),
            metadata=_span_metadata(agent),
        )

    def comparable(self) -> dict[str, Any]:
        """The trajectory as JSON data without timings and span ids (what `from_spans` and
        `from_messages` of one run agree on)."""
        data = json.loads(self.to_json())
        data.pop("duration_s", None)
        for step in data["steps"]:
            for key in ("timestamp", "duration_s", "span_id"):
                step.pop(key, None)
            for call in step.get("tool_calls", []):
                call.pop("span_id", None)
        return data

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


# --- spans -> records ----------------------------------------------------------------------------------
# Attribute names read from pydantic-ai's spans (OpenTelemetry GenAI conventions, which Phoenix keeps
# next to the OpenInference ones the span processor adds).
_OPERATION = "gen_ai.operation.name"
_SPAN_KIND = "openinference.span.kind"


@dataclass(kw_only=True)
class _SpanRecord:
    """One span in a common shape, whatever form it was read in."""

    span_id: str
    parent_id: str | None
    trace_id: str
    name: str
    start: datetime | None
    end: datetime | None
    failed: bool
    attrs: dict[str, Any]

    @property
    def operation(self) -> str | None:
        op = self.attrs.get(_OPERATION)
        if op is None and self.attrs.get(_SPAN_KIND) == "AGENT":
            return "invoke_agent"
        return op

    @property
    def duration_s(self) -> float | None:
        return (self.end - self.start).total_seconds() if self.start and self.end else None


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif value is not None and not (isinstance(value, float) and value != value):  # drop None and NaN
        out[prefix] = value


def _time(value: Any) -> datetime | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, int):  # OpenTelemetry: nanoseconds since the epoch
        from datetime import UTC

        return datetime.fromtimestamp(value / 1e9, tz=UTC)
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    to_py = getattr(value, "to_pydatetime", None)  # pandas Timestamp
    return to_py() if to_py is not None else value


def _failed(status: Any, events: Any) -> bool:
    code = getattr(status, "status_code", status)
    name = getattr(code, "name", code)
    if str(name).upper() == "ERROR":
        return True
    for e in events if isinstance(events, list | tuple) else []:
        ename = e.get("name") if isinstance(e, dict) else getattr(e, "name", None)
        if ename == "exception":
            return True
    return False


def _span_records(spans: Any) -> list[_SpanRecord]:
    """Normalise Phoenix `get_spans` dicts, a `get_spans_dataframe` frame or OpenTelemetry spans."""
    if hasattr(spans, "to_dict") and hasattr(spans, "columns"):  # a pandas DataFrame
        frame = spans.reset_index() if "context.span_id" not in spans.columns else spans
        rows = frame.to_dict("records")
        result = []
        for row in rows:
            attrs: dict[str, Any] = {}
            for col, v in row.items():
                if isinstance(col, str) and col.startswith("attributes."):
                    _flatten(col[len("attributes.") :], v, attrs)
            result.append(
                _SpanRecord(
                    span_id=str(row["context.span_id"]),
                    parent_id=row.get("parent_id") if isinstance(row.get("parent_id"), str) else None,
                    trace_id=str(row["context.trace_id"]),
                    name=str(row.get("name", "")),
                    start=_time(row.get("start_time")),
                    end=_time(row.get("end_time")),
                    failed=_failed(row.get("status_code"), row.get("events")),
                    attrs=attrs,
                )
            )
        return result
    result = []
    for span in spans:
        if isinstance(span, dict):
            ctx = span.get("context") or {}
            attrs = {}
            _flatten("", dict(span.get("attributes") or {}), attrs)
            result.append(
                _SpanRecord(
                    span_id=str(ctx.get("span_id")),
                    parent_id=span.get("parent_id"),
                    trace_id=str(ctx.get("trace_id")),
                    name=str(span.get("name", "")),
                    start=_time(span.get("start_time")),
                    end=_time(span.get("end_time")),
                    failed=_failed(span.get("status_code"), span.get("events")),
                    attrs=attrs,
                )
            )
        else:  # an OpenTelemetry ReadableSpan
            ctx = span.get_span_context()
            result.append(
                _SpanRecord(
                    span_id=f"{ctx.span_id:016x}",
                    parent_id=f"{span.parent.span_id:016x}" if span.parent is not None else None,
                    trace_id=f"{ctx.trace_id:032x}",
                    name=span.name,
                    start=_time(span.start_time),
                    end=_time(span.end_time),
                    failed=_failed(span.status, list(span.events)),
                    attrs=dict(span.attributes or {}),
                )
            )
    return result


def _span_pick_agent(records: list[_SpanRecord], agent_span_id: str | None) -> _SpanRecord:
    agents = [r for r in records if r.operation == "invoke_agent"]
    if agent_span_id is not None:
        agents = [r for r in agents if r.span_id == agent_span_id]
    ids = {r.span_id for r in agents}
    by_id = {r.span_id: r for r in records}

    def under_agent(r: _SpanRecord) -> bool:
        p = r.parent_id
        while p is not None and p in by_id:
            if p in ids:
                return True
            p = by_id[p].parent_id
        return False

    top = [r for r in agents if not under_agent(r)]
    if len(top) != 1:
        found = ", ".join(f"{r.span_id} (trace {r.trace_id})" for r in top) or "none"
        raise UserError(
            f"Trajectory.from_spans needs exactly one top-level agent run; found {found}. "
            "Pass trace_id= or agent_span_id= to choose one."
        )
    return top[0]


def _span_descendants(records: list[_SpanRecord], root: _SpanRecord) -> list[_SpanRecord]:
    """Spans under `root` (not under a nested agent run), by start time."""
    children: dict[str, list[_SpanRecord]] = {}
    for r in records:
        if r.parent_id is not None:
            children.setdefault(r.parent_id, []).append(r)
    out: list[_SpanRecord] = []
    stack = list(children.get(root.span_id, []))
    while stack:
        r = stack.pop()
        out.append(r)
        if r.operation != "invoke_agent":
            stack.extend(children.get(r.span_id, []))
    return sorted(out, key=lambda r: (r.start is None, r.start or datetime.min))


def json_text_value(value: Any) -> Any:
    """A JSON text (object or array) parsed; anything else as is. Spans keep structured values as JSON strings, so
    a trajectory read from spans and one recorded from messages compare through it."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _span_unapproved_tools(llm: _SpanRecord) -> set[str]:
    """Tools that need approval, from the request parameters on an LLM span (kind 'unapproved')."""
    params = json_text_value(llm.attrs.get("model_request_parameters"))
    tools = params.get("function_tools", []) if isinstance(params, dict) else []
    return {str(t.get("name")) for t in tools if isinstance(t, dict) and t.get("kind") == "unapproved"}


def _is_deferred(value: Any) -> bool:
    """pydantic-ai's `DeferredToolRequests` as serialised on the AGENT span."""
    return isinstance(value, dict) and {"calls", "approvals"} <= set(value)


def _span_messages(record: _SpanRecord, key: str) -> list[dict[str, Any]]:
    value = json_text_value(record.attrs.get(key))
    return value if isinstance(value, list) else []


def _span_user_prompt(first_llm: _SpanRecord) -> str | None:
    """The run's user prompt: the text of the last input message of its first model request, if a user's."""
    messages = _span_messages(first_llm, "gen_ai.input.messages")
    if not messages or messages[-1].get("role") != "user":
        return None
    texts = [p.get("content", "") for p in messages[-1].get("parts", []) if p.get("type") == "text"]
    return "\n".join(str(t) for t in texts) if texts else None


def _span_output_parts(llm: _SpanRecord) -> tuple[list[str], list[tuple[str, dict[str, Any], str]]]:
    texts: list[str] = []
    calls: list[tuple[str, dict[str, Any], str]] = []
    for message in _span_messages(llm, "gen_ai.output.messages"):
        for part in message.get("parts", []):
            if part.get("type") == "text":
                texts.append(str(part.get("content", "")))
            elif part.get("type") == "tool_call":
                args = json_text_value(part.get("arguments"))
                if not isinstance(args, dict):
                    args = {} if args in (None, "") else {"_raw": args if isinstance(args, str) else json.dumps(args)}
                calls.append((str(part.get("name")), args, str(part.get("id") or "")))
    return texts, calls


def _span_tool_replies(llm: _SpanRecord) -> list[tuple[str, str, Any]]:
    """Tool-call responses sent with a model call (after the last assistant message): (id, tool, result)."""
    messages = _span_messages(llm, "gen_ai.input.messages")
    tail: list[dict[str, Any]] = []
    for message in reversed(messages):
        if message.get("role") == "assistant":
            break
        tail.insert(0, message)
    return [
        (str(part.get("id") or ""), str(part.get("name") or ""), part.get("result"))
        for message in tail
        for part in message.get("parts", [])
        if part.get("type") == "tool_call_response"
    ]


def _unflatten(flat: dict[str, Any]) -> Any:
    tree: dict[str, Any] = {}
    for key, value in flat.items():
        node = tree
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value

    def lists(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: lists(v) for k, v in node.items()}
            if node and all(k.isdigit() for k in node):
                return [node[k] for k in sorted(node, key=int)]
        return node

    return lists(tree)


def _span_metadata(agent: _SpanRecord) -> dict[str, Any]:
    """The AGENT span's `metadata` (a JSON string in process, flattened keys once through Phoenix)."""
    raw = agent.attrs.get("metadata")
    if raw is not None:
        value = json_text_value(raw)
        return dict(value) if isinstance(value, dict) else {"metadata": value}
    flat = {k[len("metadata.") :]: v for k, v in agent.attrs.items() if k.startswith("metadata.")}
    value = _unflatten(flat)
    return value if isinstance(value, dict) else {}
