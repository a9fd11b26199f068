"""Head sampling: which traces go to Phoenix, from `AIAGENTS_TRACE_SAMPLE_RATIO` or OpenTelemetry's variables.

Precedence: `AIAGENTS_TRACE_SAMPLE_RATIO` when set (a ratio r is OpenTelemetry's `parentbased_traceidratio`
with argument r), else `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` (the standard names and meanings),
else every trace (ratio 1.0). Unlike the SDK, which logs a warning and samples everything, a value we cannot
read is an error naming the variable and what it takes.

The decision itself is the SDK's (`TraceIdRatioBased`, `ParentBased`): deterministic by trace id, so every
process of a deployment keeps the same traces. `KeepRecording` turns its DROP into RECORD_ONLY: the spans of an
unsampled trace are still recorded (not exported), so that `TraceKeeper` can export the trace after all when
one of its spans fails or carries the keep marker; head sampling cannot know about an error in advance.
A remote parent that was not sampled (the caller decided) stays DROP.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import Link, SpanKind, get_current_span
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from aiagents.errors import UserError
from aiagents.settings import sample_ratio

__all__ = [
    "OTEL_SAMPLERS",
    "KeepRecording",
    "SamplerConfigError",
    "SamplerSwitch",
    "head_sampler",
    "sampler_from_env",
]

OTEL_SAMPLERS = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
)
"""The values of `OTEL_TRACES_SAMPLER` we honour (OpenTelemetry's built-in samplers)."""
_RATIO_SAMPLERS = ("traceidratio", "parentbased_traceidratio")


class SamplerConfigError(UserError):
    """`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG` or `AIAGENTS_TRACE_SAMPLE_RATIO` holds a value we cannot use."""


def _ratio(text: str, variable: str) -> float:
    try:
        return sample_ratio(text, variable)
    except ValueError as e:
        raise SamplerConfigError(str(e)) from None


def sampler_from_env(environ: Mapping[str, str]) -> Sampler | None:
    """The sampler `OTEL_TRACES_SAMPLER` (and `OTEL_TRACES_SAMPLER_ARG`) name, None when it is unset."""
    name = environ.get("OTEL_TRACES_SAMPLER", "").strip().lower()
    if not name:
        return None
    if name not in OTEL_SAMPLERS:
        raise SamplerConfigError(
            f"OTEL_TRACES_SAMPLER={environ['OTEL_TRACES_SAMPLER']!r} is not a sampler we know: use one of "
            f"{', '.join(OTEL_SAMPLERS)} (or set AIAGENTS_TRACE_SAMPLE_RATIO)"
        )
    if name in _RATIO_SAMPLERS:
        arg = environ.get("OTEL_TRACES_SAMPLER_ARG", "").strip()
        ratio = _ratio(arg, "OTEL_TRACES_SAMPLER_ARG") if arg else 1.0  # the specification's default
        root = TraceIdRatioBased(ratio)
        return root if name == "traceidratio" else ParentBased(root)
    return {
        "always_on": ALWAYS_ON,
        "always_off": ALWAYS_OFF,
        "parentbased_always_on": ParentBased(ALWAYS_ON),
        "parentbased_always_off": ParentBased(ALWAYS_OFF),
    }[name]


def head_sampler(ratio: float | None, environ: Mapping[str, str] | None = None) -> Sampler:
    """The head sampler: `ratio` (the setting) when given, else the OpenTelemetry variables, else all traces.

    The result is the SDK's sampler wrapped in `KeepRecording`."""
    if ratio is not None:
        return KeepRecording(ParentBased(TraceIdRatioBased(ratio)))
    sampler = sampler_from_env(os.environ if environ is None else environ)
    return KeepRecording(sampler if sampler is not None else ParentBased(ALWAYS_ON))


class KeepRecording(Sampler):
    """`sampler`'s decisions, with DROP made RECORD_ONLY (except under a remote parent that was not sampled).

    What it costs (`bench/trace_sampling_cost.py`, a served task's request path in process, this 2-core machine
    under another benchmark's load): an unsampled request takes about 50-110 µs more CPU recorded than dropped
    (560 µs dropped, 630-670 µs recorded, 760-790 µs sampled with the OTLP body encoded). So at ratio 0 the
    service still pays a third to a half of its own tracing cost, but none of Phoenix's ingestion (about 9.8 ms
    a traced request): recording is kept, since without it no error or candidate could be kept.
    """

    def __init__(self, sampler: Sampler) -> None:
        self.sampler = sampler

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        result = self.sampler.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)
        if result.decision is not Decision.DROP:
            return result
        parent = get_current_span(parent_context).get_span_context()
        if parent.is_valid and parent.is_remote:
            return result  # the caller did not sample it: honoured
        return SamplingResult(Decision.RECORD_ONLY, None, result.trace_state)

    def get_description(self) -> str:
        return f"KeepRecording{{{self.sampler.get_description()}}}"


class SamplerSwitch(Sampler):
    """Delegates to the sampler of the latest `setup()` call (the provider, and the tracers it handed out,
    keep the sampler they were built with)."""

    def __init__(self, target: Sampler) -> None:
        self.target = target

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        return self.target.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return self.target.get_description()
