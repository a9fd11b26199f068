"""`LightSpan`s (the hot path's spans) reach the exporters as SDK spans do, and nest with SDK spans both ways."""

from __future__ import annotations

import pytest
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from aiagents import tracing
from aiagents.tracing import LightSpan, get_tracer, hot_tracer
from aiagents.tracing import light_span as light_span_module


def _flush() -> None:
    tracing.current_tracing().flush()  # type: ignore[union-attr]


def test_attributes_status_and_nesting_with_sdk_spans(spans) -> None:  # type: ignore[no-untyped-def]
    light, sdk = hot_tracer("test.light"), get_tracer("test.sdk")
    with sdk.start_as_current_span("outer sdk") as outer:
        with light.start_as_current_span("request", kind=SpanKind.SERVER, attributes={"a": 1}) as request:
            assert isinstance(request, LightSpan) and request.is_recording()
            assert trace.get_current_span() is request
            request.set_attributes({"openinference.span.kind": "CHAIN", "input.value": "{}", "none": None})
            request.set_attribute("tags", ["x", "y"])
            with sdk.start_as_current_span("inner sdk"):
                pass
            request.set_status(Status(StatusCode.OK))
            request.set_status(StatusCode.UNSET)  # OK is final, as in the SDK
            request.set_status(StatusCode.ERROR, "too late")
        assert not request.is_recording()
        request.set_attribute("late", 1)  # ignored once ended
    _flush()
    by_name = {s.name: s for s in spans.get_finished_spans()}
    outer_ctx, req = outer.get_span_context(), by_name["request"]
    assert req.parent.span_id == outer_ctx.span_id and req.context.trace_id == outer_ctx.trace_id
    assert by_name["inner sdk"].parent.span_id == req.context.span_id
    assert dict(req.attributes) == {"a": 1, "openinference.span.kind": "CHAIN", "input.value": "{}", "tags": ("x", "y")}
    assert req.kind is SpanKind.SERVER and req.status.status_code is StatusCode.OK
    assert req.instrumentation_scope.name == "test.light"
    assert req.resource is trace.get_tracer_provider().resource  # type: ignore[attr-defined]
    assert req.start_time <= by_name["inner sdk"].start_time <= by_name["inner sdk"].end_time <= req.end_time


def test_an_escaping_exception_is_recorded_like_the_sdk_records_it(spans) -> None:  # type: ignore[no-untyped-def]
    for tracer in (hot_tracer("test.light"), get_tracer("test.sdk")):
        with pytest.raises(ValueError, match="bad input"), tracer.start_as_current_span(f"fails {tracer}"):
            raise ValueError("bad input")
    _flush()
    light, sdk = spans.get_finished_spans()[-2:]
    assert light.status.status_code is sdk.status.status_code is StatusCode.ERROR
    assert light.status.description == sdk.status.description == "ValueError: bad input"
    (light_event,), (sdk_event,) = light.events, sdk.events
    assert light_event.name == sdk_event.name == "exception"
    assert set(light_event.attributes) == set(sdk_event.attributes)
    for key in ("exception.type", "exception.message", "exception.escaped"):
        assert light_event.attributes[key] == sdk_event.attributes[key]
    assert "raise ValueError" in light_event.attributes["exception.stacktrace"]


def test_a_parent_that_was_not_sampled_is_followed(spans) -> None:  # type: ignore[no-untyped-def]
    unsampled = SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(TraceFlags.DEFAULT))
    token = otel_context.attach(trace.set_span_in_context(NonRecordingSpan(unsampled)))
    try:
        with hot_tracer("test.light").start_as_current_span("child") as child:
            assert not child.is_recording()
            assert child.get_span_context().trace_id == 0xABC
    finally:
        otel_context.detach(token)
    _flush()
    assert "child" not in [s.name for s in spans.get_finished_spans()]


def test_before_setup_spans_go_to_the_global_tracer(monkeypatch: pytest.MonkeyPatch, spans) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(light_span_module, "_pipeline", None)
    with hot_tracer("test.light").start_as_current_span("via sdk") as span:
        assert not isinstance(span, LightSpan) and span.is_recording()
    _flush()
    assert "via sdk" in [s.name for s in spans.get_finished_spans()]


def test_pydantic_ai_spans_of_an_agent_run_are_light_and_complete(spans) -> None:  # type: ignore[no-untyped-def]
    """Under our setup() a PromptAgent's pydantic-ai spans come from LightTracers, with what SDK spans carried:
    names, kinds, parents, the run's user id (added in on_start) and OpenInference's attributes (added at end)."""
    import asyncio

    from opentelemetry.sdk.trace import TracerProvider
    from pydantic_ai import FunctionToolset
    from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
    from pydantic_ai.models.function import FunctionModel

    from aiagents.agents import PromptAgent, SessionStore
    from aiagents.agents.agent import _instrumentation_settings
    from aiagents.tracing import LightTracer

    def search_docs(query: str) -> str:
        """Search the help pages."""
        return "Refunds take 14 days."

    def model(messages, info):  # type: ignore[no-untyped-def]
        if len(messages) == 1:
            return ModelResponse(parts=[ToolCallPart("search_docs", {"query": "refund"})])
        return ModelResponse(parts=[TextPart("14 days.")])

    agent = PromptAgent("docs-agent", toolsets=[FunctionToolset([search_docs])], sessions=SessionStore(persist=False))
    result = asyncio.run(agent.run("How long does a refund take?", model=FunctionModel(model), user_id="u-7"))
    assert result.output == "14 days."
    _flush()
    provider = tracing.current_tracing().provider  # type: ignore[union-attr]
    assert isinstance(_instrumentation_settings(provider).tracer, LightTracer)
    assert not isinstance(_instrumentation_settings(TracerProvider()).tracer, LightTracer)  # a user's own provider
    run = [s for s in spans.get_finished_spans() if s.context.trace_id == int(result.trace_id, 16)]
    kinds = sorted(s.attributes["openinference.span.kind"] for s in run)
    assert kinds == ["AGENT", "LLM", "LLM", "TOOL"]
    root = next(s for s in run if s.attributes["openinference.span.kind"] == "AGENT")
    assert root.parent is None and all(s.parent.span_id == root.context.span_id for s in run if s is not root)
    assert all(s.attributes["user.id"] == "u-7" for s in run)
    assert all(s.instrumentation_scope.name == "pydantic-ai" for s in run)
    llm = next(s for s in run if s.attributes["openinference.span.kind"] == "LLM")
    assert llm.attributes["llm.input_messages.0.message.role"] and "llm.tools.0.tool.json_schema" in llm.attributes
