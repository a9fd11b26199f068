"""Trace sampling through the real `tracing.setup()` path: the ratio drops ordinary traces, never a failed one or
one marked `KEEP_TRACE`; 0.5 keeps about half, by trace id; OpenTelemetry's sampler variables are read, bad
values named; the keeper's memory is bounded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased
from opentelemetry.trace import SpanContext, Status, StatusCode, TraceFlags
from pydantic import ValidationError

from aiagents import tracing
from aiagents.secrets import REDACTED
from aiagents.settings import Settings
from aiagents.tracing import KEEP_TRACE, SamplerConfigError, TraceKeeper, get_tracer, head_sampler, hot_tracer

KEY = "sk-test-SECRET-7f3a9c1e"  # key-shaped: the exporter's scrubber replaces it


class Captured(InMemorySpanExporter):
    def get_finished_spans(self):  # type: ignore[no-untyped-def]
        tracing.current_tracing().flush()  # type: ignore[union-attr]
        return super().get_finished_spans()


@pytest.fixture
def sampled_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """`setup(ratio)` -> the captured spans; afterwards the default (every trace) again."""
    for name in ("AIAGENTS_TRACE_SAMPLE_RATIO", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG"):
        monkeypatch.delenv(name, raising=False)
    exporter = Captured()

    def setup(ratio: float | None) -> Captured:
        tracing.setup(exporter=exporter, batch=False, settings=Settings(trace_sample_ratio=ratio))
        return exporter

    yield setup
    tracing.setup(exporter=exporter, batch=False, settings=Settings())


def _trace(name: str, *, fail: bool = False, keep: bool = False) -> object:
    """A request-like trace: a hot-path root span with an SDK child; returns the root span."""
    with hot_tracer("test.sampling").start_as_current_span(name) as root:
        assert root.is_recording()  # recorded even when not sampled: it may still be kept
        if keep:
            root.set_attribute(KEEP_TRACE, True)
        with get_tracer("test.sampling").start_as_current_span(f"{name} child") as child:
            child.set_attribute("input.value", f"key {KEY}")
            if fail:
                child.set_status(Status(StatusCode.ERROR, "the model failed"))
    return root


def test_ratio_zero_drops_ordinary_traces_but_keeps_failed_and_marked_ones(sampled_at) -> None:  # type: ignore[no-untyped-def]
    spans = sampled_at(0.0)
    keeper = tracing.current_tracing().keeper  # type: ignore[union-attr]
    kept_before = keeper.kept_traces
    ordinary, failed, marked = _trace("ordinary"), _trace("failed", fail=True), _trace("marked", keep=True)
    names = [s.name for s in spans.get_finished_spans()]
    assert sorted(names) == ["failed", "failed child", "marked", "marked child"]
    assert tracing.trace_sampled(ordinary) is False  # type: ignore[arg-type]
    assert tracing.trace_sampled(failed) is tracing.trace_sampled(marked) is True  # type: ignore[arg-type]
    assert keeper.kept_traces - kept_before == 2 and keeper.held_traces == 0
    for span in spans.get_finished_spans():
        assert span.context.trace_flags.sampled  # re-flagged, so the batch and simple processors export them
        if span.name.endswith("child"):
            assert span.attributes["input.value"] == f"key {REDACTED}"  # the same exporting path: scrubbed


def test_ratio_one_and_the_default_keep_everything(sampled_at) -> None:  # type: ignore[no-untyped-def]
    for ratio in (1.0, None):
        spans = sampled_at(ratio)
        spans.clear()
        root = _trace("plain")
        assert len(spans.get_finished_spans()) == 2 and tracing.trace_sampled(root) is True  # type: ignore[arg-type]


def test_ratio_half_keeps_about_half_decided_by_trace_id(sampled_at) -> None:  # type: ignore[no-untyped-def]
    spans = sampled_at(0.5)
    spans.clear()
    roots = [_trace(f"r{i}") for i in range(400)]
    exported = {s.context.trace_id for s in spans.get_finished_spans()}
    assert 150 <= len(exported) <= 250
    bound = TraceIdRatioBased.get_bound_for_rate(0.5)
    for root in roots:
        trace_id = root.get_span_context().trace_id  # type: ignore[attr-defined]
        by_id = trace_id & TraceIdRatioBased.TRACE_ID_LIMIT < bound  # the SDK's rule: every process agrees
        assert (trace_id in exported) is by_id is tracing.trace_sampled(root)  # type: ignore[arg-type]
    assert len(spans.get_finished_spans()) == 2 * len(exported)  # whole traces, never half of one


@pytest.mark.parametrize(
    ("env", "description"),
    [
        ({}, "KeepRecording{ParentBased{root:AlwaysOnSampler,"),
        ({"OTEL_TRACES_SAMPLER": "always_on"}, "KeepRecording{AlwaysOnSampler}"),
        ({"OTEL_TRACES_SAMPLER": "always_off"}, "KeepRecording{AlwaysOffSampler}"),
        (
            {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"},
            "KeepRecording{TraceIdRatioBased{0.25}}",
        ),
        ({"OTEL_TRACES_SAMPLER": "TraceIdRatio"}, "KeepRecording{TraceIdRatioBased{1.0}}"),  # no argument: 1.0
        ({"OTEL_TRACES_SAMPLER": "parentbased_always_on"}, "KeepRecording{ParentBased{root:AlwaysOnSampler,"),
        ({"OTEL_TRACES_SAMPLER": "parentbased_always_off"}, "KeepRecording{ParentBased{root:AlwaysOffSampler,"),
        (
            {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": " 0.1 "},
            "KeepRecording{ParentBased{root:TraceIdRatioBased{0.1},",
        ),
    ],
)
def test_opentelemetry_sampler_variables(env: dict[str, str], description: str) -> None:
    assert head_sampler(None, env).get_description().startswith(description)


def test_the_aiagents_ratio_wins_over_the_opentelemetry_variables() -> None:
    env = {"OTEL_TRACES_SAMPLER": "always_off"}
    assert head_sampler(0.3, env).get_description().startswith("KeepRecording{ParentBased{root:TraceIdRatioBased{0.3}")
    assert head_sampler(None, env).get_description() == "KeepRecording{AlwaysOffSampler}"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OTEL_TRACES_SAMPLER": "sometimes"}, "OTEL_TRACES_SAMPLER='sometimes' is not a sampler we know: use one of "
         "always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, "
         "parentbased_traceidratio"),
        ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "half"},
         "OTEL_TRACES_SAMPLER_ARG='half': give a sampling ratio from 0 to 1"),
        ({"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"},
         "OTEL_TRACES_SAMPLER_ARG='1.5': give a sampling ratio from 0 to 1"),
        ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "nan"},
         "OTEL_TRACES_SAMPLER_ARG='nan': give a sampling ratio from 0 to 1"),
    ],
)  # fmt: skip
def test_bad_opentelemetry_values_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(SamplerConfigError) as info:
        head_sampler(None, env)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("value", ["2", "-0.1", "often", "nan"])
def test_a_bad_ratio_setting_is_named(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("AIAGENTS_TRACE_SAMPLE_RATIO", value)
    message = f"AIAGENTS_TRACE_SAMPLE_RATIO='{value}': give a sampling ratio from 0 to 1"
    with pytest.raises(ValidationError, match=message):
        Settings()


def test_the_ratio_setting_reads_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIAGENTS_TRACE_SAMPLE_RATIO", "0.1")
    assert Settings().trace_sample_ratio == 0.1
    monkeypatch.setenv("AIAGENTS_TRACE_SAMPLE_RATIO", "")
    assert Settings().trace_sample_ratio is None


def test_setup_refuses_a_bad_sampler_variable(monkeypatch: pytest.MonkeyPatch, sampled_at) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "ratio")
    with pytest.raises(SamplerConfigError, match="OTEL_TRACES_SAMPLER='ratio'"):
        sampled_at(None)
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    spans = sampled_at(None)  # the OpenTelemetry variable decides when the setting is unset
    spans.clear()
    _trace("off")
    assert spans.get_finished_spans() == ()


# --- the keeper on its own: bounded memory ------------------------------------------------------------------
def _span(trace_id: int, span_id: int, *, root: bool = False, error: bool = False) -> ReadableSpan:
    flags = TraceFlags(TraceFlags.DEFAULT)
    return ReadableSpan(
        name=f"{trace_id}/{span_id}",
        context=SpanContext(trace_id, span_id, False, flags),
        parent=None if root else SpanContext(trace_id, 0xFFFF, False, flags),
        status=Status(StatusCode.ERROR if error else StatusCode.UNSET),
    )


def test_the_keeper_holds_a_bounded_number_of_traces_and_spans() -> None:
    exporter = InMemorySpanExporter()
    keeper = TraceKeeper(SimpleSpanProcessor(exporter), max_traces=2, max_spans=3)
    for trace_id in (1, 2, 3):  # three traces in flight: the oldest is dropped
        keeper.on_end(_span(trace_id, 10))
    assert keeper.held_traces == 2 and keeper.evicted_traces == 1
    for span_id in range(11, 15):  # trace 2 exceeds its 3 spans; its error is past the cap and still counts
        keeper.on_end(_span(2, span_id, error=span_id == 14))
    assert keeper.dropped_spans == 2
    keeper.on_end(_span(2, 20, root=True))
    keeper.on_end(_span(3, 20, root=True))
    assert keeper.kept(2) and not keeper.kept(3) and keeper.held_traces == 0
    assert [s.name for s in exporter.get_finished_spans()] == ["2/10", "2/11", "2/12", "2/20"]  # the root past the cap
    keeper.on_end(_span(2, 30))  # late spans follow their trace's decision
    keeper.on_end(_span(3, 30))
    assert [s.name for s in exporter.get_finished_spans()][-1] == "2/30" and keeper.held_traces == 0
