"""`LightSpan`: the spans of the service's hot path, recorded in a plain dict and handed over when they end.

Why not only the SDK's `Span`: for every attribute it takes a lock, validates and copies the value, and each
span builds bounded containers, a context token and a second read-only copy at the end. For the two spans
of a served task (the request's CHAIN span, the LLM span: about 30 attributes) that is about 110 µs of the
request thread on this machine, against about 20 µs for the same spans recorded here
(`bench/service_throughput.py`). A `LightSpan` is an `opentelemetry.trace.Span`: it sits in the context like
any span (SDK spans started under it become its children), and when it ends it goes, as the SDK's
`ReadableSpan`, to the span processors of the provider that `aiagents.tracing.setup()` registered: every
processor and exporter sees it as it sees SDK spans. The provider's sampler and id generator decide as for
SDK spans, and the processors' `on_start` sees it (the run-attributes processor adds a run's user and session
ids there). What it does not do: apply span limits or validate values (the callers set plain values).

`LightTracerProvider` hands `LightTracer`s to instrumentation we do not own: `PromptAgent` gives it to
pydantic-ai, whose 4 spans of a traced run (2 model requests, 1 tool call) then cost 0.6 ms less in the same
paired measurement (5.61 -> 5.00 ms over bare pydantic-ai; the spans' names, parents and attributes are the same).

Before `setup()` (tracing off, or a user's own provider) a `LightTracer` starts its spans on the global
OpenTelemetry tracer instead, so nothing is lost either way.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import Sampler
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

__all__ = [
    "LightSpan",
    "LightTracer",
    "LightTracerProvider",
    "SpanPipeline",
    "hot_tracer",
    "pipeline_set",
    "set_pipeline",
]

_UNSET = Status(StatusCode.UNSET)
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_NOT_SAMPLED = TraceFlags(TraceFlags.DEFAULT)


@dataclass(frozen=True)
class SpanPipeline:
    """What a `LightSpan` needs of the registered provider."""

    processor: SpanProcessor
    """The provider's active (multi) span processor: every processor added to the provider is in it."""
    resource: Resource
    sampler: Sampler
    id_generator: IdGenerator


_pipeline: SpanPipeline | None = None


def set_pipeline(pipeline: SpanPipeline | None) -> None:
    """Called by `aiagents.tracing.setup()`."""
    global _pipeline
    _pipeline = pipeline


def pipeline_set() -> bool:
    """Whether `setup()` registered a pipeline (else `LightTracer`s fall back to the global tracer)."""
    return _pipeline is not None


class LightSpan(trace.Span):
    """A recording span whose attributes live in a plain dict until `end()`."""

    __slots__ = ("_name", "_context", "_parent", "_kind", "_start", "_end", "_attributes", "_events", "_links",
                 "_status", "_scope", "_pipeline")  # fmt: skip

    def __init__(
        self,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        *,
        kind: SpanKind,
        attributes: Mapping[str, Any] | None,
        links: Sequence[Link],
        scope: InstrumentationScope,
        pipeline: SpanPipeline,
    ) -> None:
        self._name = name
        self._context = context
        self._parent = parent
        self._kind = kind
        self._start = time.time_ns()
        self._end: int | None = None
        self._attributes: dict[str, Any] = dict(attributes) if attributes else {}
        self._events: list[Event] = []
        self._links = tuple(links)
        self._status = _UNSET
        self._scope = scope
        self._pipeline = pipeline

    # opentelemetry.trace.Span -------------------------------------------------------------------------
    def get_span_context(self) -> SpanContext:
        return self._context

    def is_recording(self) -> bool:
        return self._end is None

    @property
    def attributes(self) -> Mapping[str, Any]:
        """The attributes so far (as the SDK span's property, read by span processors' `on_start`)."""
        return self._attributes

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        if self._end is None:
            self._attributes.update(attributes)

    def set_attribute(self, key: str, value: Any) -> None:
        if self._end is None:
            self._attributes[key] = value

    def add_event(self, name: str, attributes: Mapping[str, Any] | None = None, timestamp: int | None = None) -> None:
        if self._end is None:
            self._events.append(Event(name, dict(attributes) if attributes else None, timestamp or time.time_ns()))

    def add_link(self, context: SpanContext, attributes: Mapping[str, Any] | None = None) -> None:
        if self._end is None:
            self._links = (*self._links, Link(context, attributes))

    def update_name(self, name: str) -> None:
        if self._end is None:
            self._name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        if self._end is not None:
            return
        if isinstance(status, StatusCode):
            status = Status(status, description)
        if self._status.status_code is StatusCode.OK or status.status_code is StatusCode.UNSET:
            return  # as the SDK: OK is final, and UNSET is never set
        self._status = status

    def record_exception(
        self,
        exception: BaseException,
        attributes: Mapping[str, Any] | None = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        """An 'exception' event with the attributes the SDK gives it (type, message, stack trace, escaped)."""
        kind = type(exception)
        module = kind.__module__
        recorded: dict[str, Any] = {
            "exception.type": f"{module}.{kind.__qualname__}" if module and module != "builtins" else kind.__qualname__,
            "exception.message": str(exception),
            "exception.stacktrace": "".join(traceback.format_exception(exception)),
            "exception.escaped": str(escaped),
        }
        if attributes:
            recorded.update(attributes)
        self.add_event("exception", recorded, timestamp)

    def end(self, end_time: int | None = None) -> None:
        if self._end is not None:
            return
        self._end = end_time or time.time_ns()
        # the SDK drops None values and keeps sequences as tuples; the rest of our values are plain already
        attributes = {k: (tuple(v) if isinstance(v, list) else v) for k, v in self._attributes.items() if v is not None}
        self._pipeline.processor.on_end(
            ReadableSpan(
                name=self._name,
                context=self._context,
                parent=self._parent,
                resource=self._pipeline.resource,
                attributes=attributes,
                events=tuple(self._events),
                links=self._links,
                kind=self._kind,
                status=self._status,
                start_time=self._start,
                end_time=self._end,
                instrumentation_scope=self._scope,
            )  # fmt: skip
        )


class LightTracer:
    """Starts `LightSpan`s for one instrumentation scope (`opentelemetry.trace.Tracer`'s API)."""

    def __init__(self, name: str, version: str | None = None) -> None:
        self.scope = InstrumentationScope(name, version)

    def start_span(
        self,
        name: str,
        context: otel_context.Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Mapping[str, Any] | None = None,
        links: Sequence[Link] | None = (),
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> trace.Span:
        """A span child of the current one (or of `context`'s, or a new trace); non-recording when not sampled."""
        pipeline = _pipeline
        links = links or ()
        if pipeline is None:
            return trace.get_tracer(self.scope.name, self.scope.version).start_span(
                name, context, kind, attributes, links, start_time, record_exception, set_status_on_exception
            )
        current = context if context is not None else otel_context.get_current()
        parent = trace.get_current_span(current).get_span_context()
        parent = parent if parent.is_valid else None
        trace_id = parent.trace_id if parent is not None else pipeline.id_generator.generate_trace_id()
        decision = pipeline.sampler.should_sample(current, trace_id, name, kind, attributes, links)
        span_context = SpanContext(
            trace_id, pipeline.id_generator.generate_span_id(), is_remote=False,
            trace_flags=_SAMPLED if decision.decision.is_sampled() else _NOT_SAMPLED, trace_state=decision.trace_state,
        )  # fmt: skip
        if not decision.decision.is_recording():
            return trace.NonRecordingSpan(span_context)
        recorded = {**(attributes or {}), **(decision.attributes or {})}
        span = LightSpan(
            name, span_context, parent, kind=kind, attributes=recorded, links=links, scope=self.scope, pipeline=pipeline
        )
        if start_time is not None:
            span._start = start_time
        pipeline.processor.on_start(span, current)  # type: ignore[arg-type]  # a Span, as the processors read it
        return span

    @contextmanager
    def start_as_current_span(
        self,
        name: str,
        context: otel_context.Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Mapping[str, Any] | None = None,
        links: Sequence[Link] | None = (),
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> Iterator[trace.Span]:
        """As the SDK's: the span is current inside; an escaping exception is recorded and sets ERROR."""
        span = self.start_span(name, context, kind, attributes, links, start_time)
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            yield span
        except BaseException as exc:
            if span.is_recording():
                if record_exception:
                    span.record_exception(exc)
                if set_status_on_exception:
                    span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            raise
        finally:
            otel_context.detach(token)
            if end_on_exit:
                span.end()


class LightTracerProvider:
    """A tracer provider handing out `LightTracer`s (for instrumentation that asks a provider for its tracer)."""

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> LightTracer:
        return hot_tracer(instrumenting_module_name, instrumenting_library_version)


_tracers: dict[tuple[str, str | None], LightTracer] = {}


def hot_tracer(name: str, version: str | None = None) -> LightTracer:
    """The `LightTracer` of scope `name` (it falls back to the global OpenTelemetry tracer before `setup()`)."""
    tracer = _tracers.get((name, version))
    if tracer is None:
        tracer = _tracers[name, version] = LightTracer(name, version)
    return tracer
