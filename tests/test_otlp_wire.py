"""`otlp_wire.encode_spans_bytes` writes what OpenTelemetry's own OTLP encoder writes, byte for byte."""

from __future__ import annotations

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
    set_span_in_context,
)

from aiagents.tracing.otlp_wire import encode_spans_bytes


def _provider(project: str) -> tuple[TracerProvider, InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"openinference.project.name": project, "n": 3}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return provider, memory


def _spans() -> list[ReadableSpan]:
    first, memory_a = _provider("a")
    second, memory_b = _provider("b")
    tracer = first.get_tracer("aiagents.service", "1.2.3", schema_url="https://opentelemetry.io/schemas/1.21.0")
    other = first.get_tracer("aiagents.tasks")
    remote = SpanContext(
        trace_id=0x0AF7651916CD43DD8448EB211C80319C, span_id=0x00F067AA0BA902B7, is_remote=True,
        trace_flags=TraceFlags(1), trace_state=TraceState([("vendor", "value"), ("k", "v")]),
    )  # fmt: skip
    with tracer.start_as_current_span("POST /v1/tasks/listing", kind=SpanKind.SERVER) as root:
        root.set_attributes({
            "openinference.span.kind": "CHAIN",
            "input.value": '{"listing": "Vélo de route, 54 cm — très bon état 🚲"}',
            "empty": "",
            "flag": True,
            "off": False,
            "count": 42,
            "negative": -7,
            "big": 2**62,
            "ratio": 0.25,
            "names": ["a", "b", ""],
            "numbers": [1, -2, 3],
            "floats": [0.5, -1.5],
            "bools": [True, False],
            "long": "x" * 20_000,
            "medium": "y" * 200,
        })  # fmt: skip
        root.add_event("retry", {"attempt": 2, "reason": "validation"})
        root.add_event("bare")
        links = [Link(remote, {"why": "x"})]
        with other.start_as_current_span("llm offline", kind=SpanKind.CLIENT, links=links) as llm:
            llm.set_attribute("llm.token_count.prompt", 114)
            llm.set_status(Status(StatusCode.ERROR, "the output did not validate"))
        root.set_status(Status(StatusCode.OK))
    with first.get_tracer("x").start_as_current_span("child of remote", context=set_span_in_context(
        NonRecordingSpan(remote))):  # fmt: skip
        pass
    with second.get_tracer("aiagents.evals").start_as_current_span("case", kind=SpanKind.PRODUCER):
        pass
    with first.get_tracer("aiagents.service", "1.2.3", schema_url="https://opentelemetry.io/schemas/1.21.0") \
            .start_as_current_span("again", kind=SpanKind.CONSUMER):  # fmt: skip
        pass
    spans = [*memory_a.get_finished_spans(), *memory_b.get_finished_spans()]
    # interleave the two resources: grouping must still gather each resource's spans
    return [spans[0], spans[-1], *spans[1:-1]]


def test_same_bytes_as_the_opentelemetry_encoder() -> None:
    spans = _spans()
    expected = encode_spans(spans).SerializeToString()
    assert encode_spans_bytes(spans) == expected


def test_parses_back_to_the_same_message() -> None:
    spans = _spans()
    ours = ExportTraceServiceRequest.FromString(encode_spans_bytes(spans))
    assert ours == encode_spans(spans)
    assert [len(rs.scope_spans) for rs in ours.resource_spans] == [3, 1]
    names = [s.name for rs in ours.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert sorted(names) == sorted(s.name for s in spans)
    root = next(s for rs in ours.resource_spans for ss in rs.scope_spans for s in ss.spans if s.name.startswith("POST"))
    values = {kv.key: kv.value for kv in root.attributes}
    assert values["input.value"].string_value.endswith('très bon état 🚲"}')
    assert values["negative"].int_value == -7 and values["big"].int_value == 2**62
    assert len(values["long"].string_value) == 20_000
    assert [v.int_value for v in values["numbers"].array_value.values] == [1, -2, 3]


def test_empty_batch_and_unsupported_values() -> None:
    assert encode_spans_bytes([]) == encode_spans([]).SerializeToString() == b""
    from aiagents.tracing import otlp_wire

    with pytest.raises(TypeError, match="cannot be exported"):
        otlp_wire._any_value(object())


def test_repeated_and_changing_values_of_one_attribute() -> None:
    """Values repeat from span to span (the encoder reuses their bytes) or change: both come out right."""
    provider, memory = _provider("c")
    tracer = provider.get_tracer("t")
    for value in ("same", "same", "other", "same", 1, True, 1.0, "1", ("same",), "ü" * 200, "ü" * 200):
        with tracer.start_as_current_span("s") as span:
            span.set_attribute("k", value)
    spans = memory.get_finished_spans()
    assert encode_spans_bytes(spans) == encode_spans(spans).SerializeToString()
    assert encode_spans_bytes(spans[::-1]) == encode_spans(spans[::-1]).SerializeToString()
