"""`setup()`: one tracer provider for the process, OpenInference-shaped spans, exported to Phoenix."""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass

from openinference.instrumentation.pydantic_ai import OpenInferenceSpanProcessor
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SynchronousMultiSpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter

from aiagents.secrets import scrubber
from aiagents.settings import Settings, get_settings
from aiagents.tracing.attributes import GEN_AI_OPERATION
from aiagents.tracing.keeper import TraceKeeper
from aiagents.tracing.light_span import SpanPipeline, set_pipeline
from aiagents.tracing.sampling import SamplerSwitch, head_sampler
from aiagents.tracing.scrub import scrub_spans
from aiagents.tracing.spool import SpoolingExporter

__all__ = ["DEFAULT_PHOENIX_URL", "Tracing", "setup", "current_tracing", "phoenix_url", "shutdown", "trace_sampled"]

DEFAULT_PHOENIX_URL = "http://127.0.0.1:6006"
_PROJECT_NAME = "openinference.project.name"  # openinference.semconv.resource.ResourceAttributes.PROJECT_NAME


@dataclass(kw_only=True)
class Tracing:
    """The registered tracing pipeline."""

    provider: TracerProvider
    exporter: SpanExporter
    project: str
    endpoint: str
    keeper: TraceKeeper
    """Holds unsampled traces until their root ends; its counters say what it kept, discarded and evicted."""

    def flush(self, timeout_millis: int = 10_000) -> bool:
        return self.provider.force_flush(timeout_millis)


_current: Tracing | None = None
_provider: TracerProvider | None = None
_keeper: TraceKeeper | None = None
_sampler = SamplerSwitch(head_sampler(1.0))


class _SwitchExporter(SpanExporter):
    """Delegates to the exporter of the latest `setup()` call: the global provider can be set only once."""

    def __init__(self) -> None:
        self.target: SpanExporter | None = None

    def export(self, spans):  # type: ignore[no-untyped-def]
        from opentelemetry.sdk.trace.export import SpanExportResult

        if self.target is None:
            return SpanExportResult.SUCCESS
        return self.target.export(scrub_spans(spans, scrubber()))  # no secret leaves in a span

    def shutdown(self) -> None:
        if self.target is not None:
            self.target.shutdown()


_switch = _SwitchExporter()


class _GenAISpanProcessor(OpenInferenceSpanProcessor):
    """`OpenInferenceSpanProcessor` for the spans that need it: those pydantic-ai's instrumentation made (they
    carry `gen_ai.operation.name`). Spans we build carry OpenInference attributes already; rewriting their
    attribute dict cost about 0.1 ms a span on the request thread, for nothing. An agent run's span is
    rewritten although its kind was set when it started: the rewrite gives it the run's input and output."""

    def on_end(self, span: ReadableSpan) -> None:
        attributes = span.attributes
        if attributes and GEN_AI_OPERATION in attributes:
            super().on_end(span)


SPAN_QUEUE_SIZE = 16_384
"""Spans waiting for export before the oldest are dropped (the SDK's default, 2,048, is about a second of a busy
service's spans: one slow answer from Phoenix would lose spans). `OTEL_BSP_MAX_QUEUE_SIZE` overrides it."""


def _batch_processor() -> BatchSpanProcessor:
    queue = int(os.environ.get("OTEL_BSP_MAX_QUEUE_SIZE") or SPAN_QUEUE_SIZE)
    return BatchSpanProcessor(_switch, max_queue_size=queue)


def phoenix_url(settings: Settings | None = None) -> str:
    """Phoenix base URL: `PHOENIX_COLLECTOR_ENDPOINT` / `AIAGENTS_PHOENIX_COLLECTOR_ENDPOINT` or the local default."""
    settings = settings or get_settings()
    url = (settings.phoenix_collector_endpoint or DEFAULT_PHOENIX_URL).rstrip("/")
    return url.removesuffix("/v1/traces")


def setup(
    project: str | None = None,
    *,
    endpoint: str | None = None,
    settings: Settings | None = None,
    exporter: SpanExporter | None = None,
    batch: bool = True,
) -> Tracing:
    """Register the global tracer provider and point its exporter at Phoenix (or `exporter`).

    The provider is created once per process; calling `setup` again re-points the exporter.

    Spans get OpenInference attributes (pydantic-ai's GenAI attributes are rewritten by
    `OpenInferenceSpanProcessor`, added before the exporting processor) and go over OTLP/HTTP to Phoenix;
    when Phoenix is unreachable they are spooled under the data folder (`aiagents traces push` sends them).
    Pass `exporter` to send spans elsewhere (tests use an in-memory exporter).

    Head sampling (`aiagents.tracing.sampling`): `AIAGENTS_TRACE_SAMPLE_RATIO`, else `OTEL_TRACES_SAMPLER` /
    `OTEL_TRACES_SAMPLER_ARG`, else every trace; each call re-reads it. Unsampled traces with an error or the
    `KEEP_TRACE` marker are exported all the same (`aiagents.tracing.keeper`).
    """
    global _current, _provider, _keeper
    settings = settings or get_settings()
    project = project or settings.phoenix_project
    endpoint = endpoint or phoenix_url(settings)
    headers = {}
    if settings.phoenix_api_key is not None:
        headers["Authorization"] = f"Bearer {settings.phoenix_api_key.get_secret_value()}"
    _sampler.target = head_sampler(settings.trace_sample_ratio)  # before any span: a bad variable stops here
    exporter = exporter or SpoolingExporter(endpoint, settings.spool_dir, headers=headers)
    if _provider is None:
        processors = SynchronousMultiSpanProcessor()  # kept: the hot path's `LightSpan`s end into it too
        resource = Resource.create({_PROJECT_NAME: project})
        _provider = TracerProvider(resource=resource, active_span_processor=processors, sampler=_sampler)
        _provider.add_span_processor(_GenAISpanProcessor())  # first: a kept trace is exported as rewritten
        _keeper = TraceKeeper(_batch_processor() if batch else SimpleSpanProcessor(_switch))
        _provider.add_span_processor(_keeper)
        trace.set_tracer_provider(_provider)
        set_pipeline(SpanPipeline(processor=processors, resource=_provider.resource, sampler=_provider.sampler,
                                  id_generator=_provider.id_generator))  # fmt: skip
        atexit.register(shutdown)
    else:
        _provider.force_flush()  # the project of the first setup stays: a resource cannot change
        project = _provider.resource.attributes.get(_PROJECT_NAME, project)  # type: ignore[assignment]
    _switch.target = exporter
    assert _keeper is not None
    _current = Tracing(provider=_provider, exporter=exporter, project=project, endpoint=endpoint, keeper=_keeper)
    return _current


def trace_sampled(span: trace.Span) -> bool | None:
    """Whether `span`'s trace goes to Phoenix: sampled at its head, or kept once its local root ended (an error,
    the keep marker). None when it has no trace (tracing off). Ask after the root span ended."""
    context = span.get_span_context()
    if not context.is_valid:
        return None
    if context.trace_flags.sampled:
        return True
    return _keeper is not None and _keeper.kept(context.trace_id)


def current_tracing() -> Tracing | None:
    return _current


def shutdown() -> None:
    """Flush every pending span (registered with atexit)."""
    if _provider is not None:
        _provider.force_flush()
