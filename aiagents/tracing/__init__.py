"""Tracing: OpenTelemetry + OpenInference spans, exported over OTLP/HTTP to Phoenix, spooled when it is down."""

from __future__ import annotations

import functools

from opentelemetry import trace

from aiagents.tracing.keeper import KEEP_TRACE, TraceKeeper
from aiagents.tracing.light_span import LightSpan, LightTracer, LightTracerProvider, hot_tracer
from aiagents.tracing.prompt_mirror import mirror_prompt
from aiagents.tracing.sampling import SamplerConfigError, head_sampler
from aiagents.tracing.setup import (
    DEFAULT_PHOENIX_URL,
    Tracing,
    current_tracing,
    phoenix_url,
    setup,
    shutdown,
    trace_sampled,
)
from aiagents.tracing.span_annotations import SpanAnnotationSender
from aiagents.tracing.spool import PushReport, SpoolingExporter, push_spool, spool_status, traces_url

__all__ = [
    # pipeline
    "setup",
    "shutdown",
    "current_tracing",
    "Tracing",
    "get_tracer",
    "hot_tracer",
    "LightTracer",
    "LightTracerProvider",
    "LightSpan",
    "phoenix_url",
    "DEFAULT_PHOENIX_URL",
    # sampling
    "head_sampler",
    "SamplerConfigError",
    "TraceKeeper",
    "KEEP_TRACE",
    "trace_sampled",
    # spool
    "SpoolingExporter",
    "PushReport",
    "push_spool",
    "spool_status",
    "traces_url",
    # annotations
    "SpanAnnotationSender",
    # prompts in Phoenix's prompt registry
    "mirror_prompt",
    # helpers
    "trace_id_hex",
]


@functools.lru_cache(maxsize=256)
def get_tracer(name: str = "aiagents") -> trace.Tracer:
    """A tracer on the provider that `setup()` registered (a no-op one before setup).

    Cached: the SDK builds a new tracer on every `get_tracer` call (about 0.1 ms); a cached one stays valid
    because the global provider is set once (a proxy tracer obtained before `setup()` follows it).
    """
    return trace.get_tracer(name)


def trace_id_hex(span: trace.Span | None = None) -> str | None:
    """The 32-hex-digit trace id of `span` (or the current span), as Phoenix shows it; None when not recording."""
    context = (span or trace.get_current_span()).get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None
