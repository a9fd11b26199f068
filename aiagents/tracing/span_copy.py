"""`copy_span`: a finished span with some of its fields replaced (the SDK's `ReadableSpan` is immutable)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanContext, Status

__all__ = ["copy_span"]


def copy_span(
    span: ReadableSpan,
    *,
    context: SpanContext | None = None,
    attributes: Mapping[str, Any] | None = None,
    events: Sequence[Event] | None = None,
    status: Status | None = None,
) -> ReadableSpan:
    """A `ReadableSpan` like `span`, with the given fields instead of its own."""
    return ReadableSpan(
        name=span.name,
        context=context if context is not None else span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes if attributes is not None else span.attributes,
        events=events if events is not None else span.events,
        links=span.links,
        kind=span.kind,
        status=status if status is not None else span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )
