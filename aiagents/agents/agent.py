"""`PromptAgent`: a pydantic-ai agent built from a versioned prompt, a model name and toolsets.

```python
agent = PromptAgent("docs-agent", toolsets=[docs_toolset(retriever)], output_type=DocsAnswer)
result = await agent.run("How long does a refund take?", session_id="s1", user_id="u1")
result.output, result.trajectory, result.trace_id
```

Each run is one AGENT span (pydantic-ai's instrumentation, rewritten to OpenInference by the processor
`aiagents.tracing.setup` installs) with LLM and TOOL children; the span carries the prompt's name and
version, the model, the user and session ids and, for toolsets that expose `trace_metadata(user_id)`
(e.g. `aiagents.tools.rollout.RolloutToolset`), which tools were offered and why. Tool calls that need approval end
the run with `DeferredToolRequests` as output; `run(deferred_results=...)` resumes it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic_ai import (
    Agent,
    DeferredToolRequests,
    DeferredToolResults,
    InstrumentationSettings,
    NativeOutput,
    PromptedOutput,
    UnexpectedModelBehavior,
    UsageLimitExceeded,
    capture_run_messages,
)
from pydantic_ai.capabilities import Instrumentation
from pydantic_ai.exceptions import ModelAPIError
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models import Model
from pydantic_ai.toolsets import AbstractToolset

from aiagents.agents.errors import AgentRunFailed, UsageLimitError
from aiagents.agents.limits import DEFAULT_LIMITS, Limits, limit_of
from aiagents.agents.sessions import SessionStore
from aiagents.agents.tracing import RunScope, ensure_processor, run_scope
from aiagents.errors import PromptError, UserError
from aiagents.models import ResolvedModel, check_output_mode, default_output_mode, resolve_model
from aiagents.models.errors import model_call_error
from aiagents.prompts import Prompt, PromptRegistry
from aiagents.tracing import attributes as oi
from aiagents.tracing import current_tracing
from aiagents.tracing.light_span import LightTracerProvider, pipeline_set
from aiagents.trajectory import ToolCall, Trajectory, Usage

__all__ = ["PromptAgent", "AgentResult"]

OutputT = TypeVar("OutputT")


@dataclass(kw_only=True)
class AgentResult(Generic[OutputT]):
    """The outcome of one agent run."""

    output: OutputT | DeferredToolRequests
    """The answer (text or the structured output), or the tool calls waiting for approval."""
    trajectory: Trajectory
    """The run's steps (this run only, not the session's earlier turns)."""
    usage: Usage
    """Requests and tokens of this run."""
    trace_id: str | None
    """Trace id (hex) of the run's AGENT span when tracing is set up."""
    session_id: str | None
    user_id: str | None
    prompt_name: str
    prompt_version: str
    model: str
    """Model name as resolved ('offline', 'openai:gpt-4.1-mini', ...)."""
    latency_ms: float
    metadata: dict[str, Any] = field(default_factory=dict)
    """What was recorded on the AGENT span (prompt, model, user, tool rollout, ...)."""
    messages: list[ModelMessage] = field(default_factory=list, repr=False)
    """The run's new messages."""
    all_messages: list[ModelMessage] = field(default_factory=list, repr=False)
    """History + new messages (pass as `message_history` to resume without a session store)."""

    @property
    def pending_approvals(self) -> list[ToolCall]:
        """Tool calls waiting for approval (empty unless the output is `DeferredToolRequests`)."""
        if not isinstance(self.output, DeferredToolRequests):
            return []
        return [
            ToolCall(tool_name=c.tool_name, args=c.args_as_dict(), call_id=c.tool_call_id)
            for c in self.output.approvals
        ]

    @property
    def answer_text(self) -> str:
        """The answer as text (the `answer` field of a structured output, else `str(output)`)."""
        out = self.output
        if isinstance(out, DeferredToolRequests):
            names = ", ".join(c.tool_name for c in out.approvals + out.calls)
            return f"(waiting for approval: {names})"
        return str(getattr(out, "answer", out))


class PromptAgent(Generic[OutputT]):
    """An agent whose instructions come from a versioned prompt file (see module docstring).

    The prompt's `system` text becomes the agent's instructions and its template renders the user
    message (variables: `question` plus any `variables=` given to `run`). `toolsets` are pydantic-ai
    toolsets (the core does not import `tools`). `model` is a name for `resolve_model` or a pydantic-ai
    `Model`; it defaults to the prompt's model, else the configured default. `sessions` keeps history
    per session id (default: the SQLite store under the data folder).
    """

    def __init__(
        self,
        prompt: Prompt | str,
        *,
        toolsets: Sequence[AbstractToolset[Any]] = (),
        output_type: type[OutputT] | None = None,
        model: str | Model | None = None,
        limits: Limits = DEFAULT_LIMITS,
        sessions: SessionStore | None = None,
        retries: int = 2,
        name: str | None = None,
        version: str | None = None,
        label: str | None = None,
        registry: PromptRegistry | None = None,
        output_mode: str | None = None,
    ) -> None:
        if isinstance(prompt, str):
            # a version or a label when given, else what production serves (the serving label, else the file)
            prompt = (registry or PromptRegistry()).choose(prompt, version=version, label=label)[0]
        self.prompt = prompt
        self.toolsets = list(toolsets)
        self.output_type: Any = output_type or prompt.output_type() or str
        self.output_mode: str | None = check_output_mode(output_mode or prompt.output_mode)
        """How the final answer is asked for: tool, native or prompted; None: the model's default."""
        self.model = model
        self.limits = limits
        self.sessions = sessions if sessions is not None else SessionStore()
        self.name = name or prompt.name
        try:
            system, _ = prompt.render(self._render_vars("", {}))
        except PromptError:  # instructions that need run-time variables: use the raw system text
            system = prompt.system
        self._agent: Agent[None, Any] = Agent(
            None,
            output_type=[self.output_type, DeferredToolRequests],
            instructions=system or None,
            toolsets=self.toolsets,
            name=self.name,
            retries=retries,
            model_settings=dict(prompt.parameters) or None,  # type: ignore[arg-type]
            defer_model_check=True,
        )

    @property
    def agent(self) -> Agent[None, Any]:
        """The underlying pydantic-ai agent (for `override`, iteration, ...)."""
        return self._agent

    def _render_vars(self, question: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        values = {k: v.default for k, v in self.prompt.variables.items() if not v.required}
        values.update(variables)
        if "question" in self.prompt.variables:
            values.setdefault("question", question)
        return values

    def resolve(self, model: str | Model | None = None) -> ResolvedModel:
        return resolve_model(model or self.model or self.prompt.model)

    def _output_for(self, resolved: ResolvedModel) -> Any:
        """The run's output type: the final answer as an output tool, or as JSON text (native: the schema sent as
        `response_format`; prompted: the schema in the instructions) for models that seldom call tools."""
        mode = self.output_mode or default_output_mode(resolved)
        if self.output_type is str or mode == "tool":
            return None
        wrapper = NativeOutput if mode == "native" else PromptedOutput
        return [wrapper(self.output_type), DeferredToolRequests]

    def run_sync(self, question: str | None = None, **kwargs: Any) -> AgentResult[OutputT]:
        """Blocking form of `run`."""
        return asyncio.run(self.run(question, **kwargs))

    async def run(
        self,
        question: str | None = None,
        *,
        variables: Mapping[str, Any] | None = None,
        session_id: str | None = None,
        user_id: str | None = None,
        model: str | Model | None = None,
        limits: Limits | None = None,
        deferred_results: DeferredToolResults | None = None,
        message_history: Sequence[ModelMessage] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> AgentResult[OutputT]:
        """Run the agent on `question` (None when resuming with `deferred_results`).

        With `session_id`, the session's history is loaded first and the new messages saved after.
        Raises `UsageLimitError` when a limit is reached and `AgentRunFailed` when the run fails.
        """
        if question is None and deferred_results is None:
            raise UserError("Give a question, or deferred_results to resume a run waiting for approval.")
        resolved = self.resolve(model)
        limits = limits or self.limits
        history = list(message_history or [])
        if session_id and not history:
            history = self.sessions.load(session_id)
        user_prompt = None
        if question is not None:
            _, user_prompt = self.prompt.render(self._render_vars(question, variables or {}))
        run_meta: dict[str, Any] = {
            "prompt": self.prompt.name,
            "prompt_version": self.prompt.version,
            "model": resolved.name,
            "user_id": user_id,
            "session_id": session_id,
            **{k: v for ts in self.toolsets for k, v in _trace_metadata(ts, user_id).items()},
            **dict(metadata or {}),
        }
        run_meta = {k: v for k, v in run_meta.items() if v is not None}  # spans drop None attributes
        provider = ensure_processor()
        capabilities = [Instrumentation(_instrumentation_settings(provider))] if provider is not None else []
        scope = RunScope(
            attributes={oi.USER_ID: user_id, oi.SESSION_ID: session_id},
            agent_attributes={
                oi.PROMPT_ID: self.prompt.name,
                oi.PROMPT_TEMPLATE: self.prompt.template,
                oi.PROMPT_TEMPLATE_VERSION: self.prompt.version,
            },
        )
        started = time.perf_counter()
        with run_scope(scope), capture_run_messages() as captured:
            try:
                result = await self._agent.run(
                    user_prompt,
                    model=resolved.model,
                    output_type=self._output_for(resolved),
                    message_history=history or None,
                    deferred_tool_results=deferred_results,
                    conversation_id=session_id,
                    usage_limits=limits.usage_limits(),
                    metadata=run_meta,
                    capabilities=capabilities,
                )
            except UsageLimitExceeded as exc:
                name, value = limit_of(exc, limits)
                partial = _partial(captured, len(history), scope, session_id, run_meta)
                raise UsageLimitError(
                    f"Agent {self.name!r} stopped: the {name} limit ({value}) was reached ({exc}). "
                    f"Raise it with Limits({name}=...) or the matching CLI option.",
                    limit=name,
                    value=value,
                    trajectory=partial,
                    trace_id=scope.trace_id,
                ) from exc
            except (UnexpectedModelBehavior, ModelAPIError) as exc:
                partial = _partial(captured, len(history), scope, session_id, run_meta)
                explained = model_call_error(exc, resolved.name)
                raise AgentRunFailed(
                    f"Agent {self.name!r} (model {resolved.name}) failed: {explained or exc}",
                    trajectory=partial,
                    trace_id=scope.trace_id,
                ) from exc
        latency = (time.perf_counter() - started) * 1000
        new = result.new_messages()
        last = result.all_messages()[-1] if result.all_messages() else None
        if isinstance(last, ModelResponse) and last.finish_reason == "length":  # a cut-off answer is not an answer
            raise AgentRunFailed(
                f"Agent {self.name!r} (model {resolved.name}): the model stopped at its output token limit "
                "(finish_reason=length), so its answer is cut off; raise `max_tokens` in the prompt's parameters.",
                trajectory=Trajectory.from_messages(new, usage=result.usage, trace_id=scope.trace_id),
                trace_id=scope.trace_id,
            )
        if session_id:
            self.sessions.append(session_id, new, run_id=result.run_id, user_id=user_id)
        output = result.output
        trajectory = Trajectory.from_messages(
            new,
            output=None if isinstance(output, DeferredToolRequests) else output,
            usage=result.usage,
            trace_id=scope.trace_id,
            session_id=session_id,
        )
        trajectory.metadata = dict(run_meta)
        return AgentResult(
            output=output,
            trajectory=trajectory,
            usage=trajectory.usage,
            trace_id=scope.trace_id,
            session_id=session_id,
            user_id=user_id,
            prompt_name=self.prompt.name,
            prompt_version=self.prompt.version,
            model=resolved.name,
            latency_ms=latency,
            metadata=run_meta,
            messages=new,
            all_messages=result.all_messages(),
        )


def _trace_metadata(toolset: Any, user_id: str | None) -> dict[str, Any]:
    """What a toolset wants on the AGENT span (duck-typed `trace_metadata(user_id)`), searched through
    wrapper toolsets."""
    seen = 0
    while toolset is not None and seen < 10:
        fn = getattr(toolset, "trace_metadata", None)
        if callable(fn):
            return dict(fn(user_id))
        toolset, seen = getattr(toolset, "wrapped", None), seen + 1
    return {}


def _partial(
    captured: list[ModelMessage], skip: int, scope: RunScope, session_id: str | None, meta: dict[str, Any]
) -> Trajectory:
    trajectory = Trajectory.from_messages(captured[skip:], trace_id=scope.trace_id, session_id=session_id)
    trajectory.metadata = dict(meta)
    return trajectory


_settings_for: tuple[Any, InstrumentationSettings] | None = None


def _instrumentation_settings(provider: Any) -> InstrumentationSettings:
    """pydantic-ai's instrumentation settings for the tracer provider, built once per provider (27 us each).

    When the provider is the one `aiagents.tracing.setup()` registered, pydantic-ai's spans are `LightSpan`s
    (`LightTracerProvider`): the same spans through the same processors, 0.6 ms less CPU a traced run. A
    provider of the user's own keeps its SDK spans."""
    global _settings_for
    current = current_tracing()
    light = current is not None and current.provider is provider and pipeline_set()
    key = (provider, light)
    cached = _settings_for
    if cached is not None and cached[0] == key:
        return cached[1]
    settings = InstrumentationSettings(tracer_provider=LightTracerProvider() if light else provider)
    _settings_for = (key, settings)
    return settings
