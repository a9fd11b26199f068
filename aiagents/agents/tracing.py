"""Run-scoped span attributes: user id and session id on every span of a run, the AGENT span's ids.

pydantic-ai's instrumentation puts the session id (its `conversation_id`) on its spans, but nothing
carries the user id, and spans of code the tools call (e.g. retrieval's RETRIEVER spans) get neither.
`RunAttributesProcessor` adds them when a span starts inside `run_scope(...)`, and notes the trace and
span id of the run's AGENT span so the result can point at its trace.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider

from aiagents.tracing import attributes as oi

__all__ = ["RunScope", "run_scope", "ensure_processor", "RunAttributesProcessor", "AGENT_OPERATION"]

AGENT_OPERATION = "invoke_agent"


@dataclass(kw_only=True)
class RunScope:
    """What the processor adds to the spans of one run, and what it learns."""

    attributes: dict[str, Any] = field(default_factory=dict)
    """Added to every span started in the scope (e.g. user.id, session.id)."""
    agent_attributes: dict[str, Any] = field(default_factory=dict)
    """Added to the run's AGENT span only."""
    trace_id: str | None = None
    """Trace id (hex) of the first AGENT span started in the scope."""
    span_id: str | None = None
    """Span id (hex) of that AGENT span."""


_SCOPE: contextvars.ContextVar[RunScope | None] = contextvars.ContextVar("aiagents_run_scope", default=None)


class RunAttributesProcessor(SpanProcessor):
    """Adds the current `RunScope`'s attributes to spans as they start."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        scope = _SCOPE.get()
        if scope is None:
            return
        for key, value in scope.attributes.items():
            if value is not None:
                span.set_attribute(key, value)
        if scope.span_id is None and (span.attributes or {}).get(oi.GEN_AI_OPERATION) == AGENT_OPERATION:
            ctx = span.get_span_context()
            scope.trace_id, scope.span_id = f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"
            span.set_attribute(oi.SPAN_KIND, oi.AGENT)
            for key, value in scope.agent_attributes.items():
                if value is not None:
                    span.set_attribute(key, value)

    def on_end(self, span: ReadableSpan) -> None:
        return None


_registered: set[int] = set()


def ensure_processor(provider: Any = None) -> TracerProvider | None:
    """Register `RunAttributesProcessor` once on the SDK provider in use; None when tracing is not set up."""
    provider = provider or trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        return None
    if id(provider) not in _registered:
        provider.add_span_processor(RunAttributesProcessor())
        _registered.add(id(provider))
    return provider


@contextmanager
def run_scope(scope: RunScope) -> Iterator[RunScope]:
    """Spans started inside get `scope`'s attributes."""
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)
