"""Tracing: OpenTelemetry + OpenInference, exported to Phoenix (placeholder; `setup` lands next)."""

from __future__ import annotations

from opentelemetry import trace

__all__ = ["get_tracer"]


def get_tracer(name: str = "aiagents") -> trace.Tracer:
    """A tracer on the provider that `setup()` registered (a no-op one before setup)."""
    return trace.get_tracer(name)
