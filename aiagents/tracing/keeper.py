"""`TraceKeeper`: traces the head sampler did not keep still reach Phoenix when they failed or are marked.

The sampler (`aiagents.tracing.sampling.KeepRecording`) records unsampled traces instead of dropping them.
This processor, in front of the exporting one, passes sampled spans straight through and holds an unsampled
trace's ended spans until its local root span ends (no parent, or a remote one). Then the whole trace is
exported if any of its spans ended with ERROR status or carries `KEEP_TRACE` (the service sets it on requests
an experiment's candidate served), and forgotten otherwise. Kept spans are handed to the exporting processor
as copies flagged sampled: `BatchSpanProcessor` and `SimpleSpanProcessor` export only sampled spans, and the
exporter behind them (secret scrubbing, spool) is the same.

Memory is bounded: at most `max_traces` traces are held (the oldest is dropped past that, counted in
`evicted_traces`) and `max_spans` spans of one trace besides its root (later ones counted in `dropped_spans`;
an error among them still keeps the trace).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import SpanContext, StatusCode, TraceFlags

from aiagents.tracing.span_copy import copy_span

__all__ = ["KEEP_TRACE", "TraceKeeper"]

KEEP_TRACE = "aiagents.trace.keep"
"""A span attribute: true keeps its whole trace in Phoenix whatever the sampling ratio."""
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)


@dataclass
class _Held:
    spans: list[ReadableSpan] = field(default_factory=list)
    keep: bool = False


def sampled_copy(span: ReadableSpan) -> ReadableSpan:
    """`span` with its context flagged sampled (what the exporting processors take)."""
    c = span.context
    assert c is not None
    return copy_span(span, context=SpanContext(c.trace_id, c.span_id, c.is_remote, _SAMPLED, c.trace_state))


class TraceKeeper(SpanProcessor):
    """Sampled spans to `exporting`; unsampled traces held until their root ends, then kept or forgotten."""

    def __init__(
        self, exporting: SpanProcessor, *, max_traces: int = 1024, max_spans: int = 256, remember: int = 16_384
    ) -> None:
        self.exporting = exporting
        self.max_traces = max_traces
        self.max_spans = max_spans
        self.remember = remember
        self._held: OrderedDict[int, _Held] = OrderedDict()
        self._decided: OrderedDict[int, bool] = OrderedDict()
        """The latest decisions by trace id: late spans follow them, and `kept` answers from them."""
        self._lock = threading.Lock()
        self.kept_traces = 0
        self.discarded_traces = 0
        self.evicted_traces = 0
        self.dropped_spans = 0

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.exporting.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        context = span.context
        if context is None or context.trace_flags.sampled:
            self.exporting.on_end(span)
            return
        attributes = span.attributes
        keep = span.status.status_code is StatusCode.ERROR or bool(attributes and attributes.get(KEEP_TRACE))
        parent = span.parent
        trace_id = context.trace_id
        with self._lock:
            decided = self._decided.get(trace_id)
            if decided is not None:  # a span that ended after its root: as its trace was decided (or kept now)
                release = [span] if decided or keep else []
                if keep and not decided:
                    self._decide(trace_id, True)
            else:
                held = self._held.get(trace_id)
                if held is None:
                    held = self._held[trace_id] = _Held()
                    if len(self._held) > self.max_traces:
                        self._held.popitem(last=False)
                        self.evicted_traces += 1
                held.keep = held.keep or keep
                root = parent is None or parent.is_remote
                if len(held.spans) < self.max_spans or root:  # the root (the request) even past the cap
                    held.spans.append(span)
                else:
                    self.dropped_spans += 1
                if not root:
                    return  # its local root has not ended yet
                del self._held[trace_id]
                self._decide(trace_id, held.keep)
                if held.keep:
                    self.kept_traces += 1
                else:
                    self.discarded_traces += 1
                release = held.spans if held.keep else []
        for s in release:
            self.exporting.on_end(sampled_copy(s))

    def _decide(self, trace_id: int, keep: bool) -> None:
        self._decided[trace_id] = keep
        self._decided.move_to_end(trace_id)
        while len(self._decided) > self.remember:
            self._decided.popitem(last=False)

    def kept(self, trace_id: int) -> bool:
        """True once an unsampled trace was kept (its local root ended with an error or the keep marker)."""
        with self._lock:
            return self._decided.get(trace_id, False)

    @property
    def held_traces(self) -> int:
        with self._lock:
            return len(self._held)

    def shutdown(self) -> None:
        self.exporting.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.exporting.force_flush(timeout_millis)
