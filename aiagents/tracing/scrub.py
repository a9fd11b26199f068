"""Secrets out of every exported span: `scrub_spans` gives copies of the spans whose attributes, events or status
hold a secret (`aiagents.secrets`), and the spans themselves otherwise. `setup()`'s exporter applies it to every
span it exports, ours and pydantic-ai's / OpenInference's alike, before Phoenix or the spool sees them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import Status

from aiagents.secrets import Scrubber
from aiagents.tracing.span_copy import copy_span

__all__ = ["scrub_spans"]


def _scrubbed_value(value: Any, scrub: Scrubber) -> Any:
    """The value with its secrets replaced, or None when it held none."""
    if isinstance(value, str):
        return scrub.text(value) if scrub.contains_secret(value) else None
    is_list = isinstance(value, Sequence) and not isinstance(value, bytes)
    if is_list and any(isinstance(v, str) and scrub.contains_secret(v) for v in value):
        return tuple(scrub.text(v) if isinstance(v, str) else v for v in value)
    return None


def _attributes(attributes: Mapping[str, Any] | None, scrub: Scrubber) -> dict[str, Any] | None:
    """Scrubbed attributes, or None when none held a secret."""
    if not attributes:
        return None
    changed: dict[str, Any] | None = None
    for key, value in attributes.items():
        new = _scrubbed_value(value, scrub)
        if new is not None:
            changed = changed if changed is not None else dict(attributes)
            changed[key] = new
    return changed


def _scrub_span(span: ReadableSpan, scrub: Scrubber) -> ReadableSpan:
    attributes = _attributes(span.attributes, scrub)
    events = None
    for i, event in enumerate(span.events):
        new = _attributes(event.attributes, scrub)
        if new is not None:
            events = events if events is not None else list(span.events)
            events[i] = Event(event.name, new, event.timestamp)
    status = span.status
    if status.description and scrub.contains_secret(status.description):
        status = Status(status.status_code, scrub.text(status.description))
    if attributes is None and events is None and status is span.status:
        return span
    return copy_span(span, attributes=attributes, events=events, status=status)


def _texts(span: ReadableSpan) -> Iterator[str]:
    for attributes in (span.attributes, *(e.attributes for e in span.events)):
        for value in (attributes or {}).values():
            if isinstance(value, str):
                yield value
            elif isinstance(value, Sequence) and not isinstance(value, bytes):
                yield from (v for v in value if isinstance(v, str))
    if span.status.description:
        yield span.status.description


def scrub_spans(spans: Sequence[ReadableSpan], scrub: Scrubber) -> Sequence[ReadableSpan]:
    """`spans` with every secret replaced by '[REDACTED]' (the same list when none held one)."""
    # One search over all the batch's texts first, joined by a newline (a match straddling two texts would need
    # a needle holding a newline: at worst a false alarm, which only sends the batch to the per-text check): a
    # traced agent run's 4 spans hold 113 strings, and searching them one call at a time cost more in Python
    # than the search itself.
    if not scrub.may_hold("\n".join(text for span in spans for text in _texts(span))):
        return spans
    out = [_scrub_span(span, scrub) for span in spans]
    return out if any(a is not b for a, b in zip(out, spans, strict=True)) else spans
