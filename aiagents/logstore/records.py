"""The rows of the log store: one per served request, one per piece of feedback."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["RequestRecord", "FeedbackRecord", "new_id", "now", "json_or_text"]


def new_id() -> str:
    """A random 32-hex-digit id."""
    return uuid.uuid4().hex


def json_or_text(value: Any) -> Any:
    """A value kept as JSON text (a column, a span attribute) parsed back; text that is not JSON as is."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def now() -> float:
    """Seconds since the epoch (UTC)."""
    return time.time()


@dataclass(kw_only=True)
class RequestRecord:
    """One request the service answered (or failed to answer)."""

    request_id: str
    created_at: float = field(default_factory=now)
    """When the request arrived, seconds since the epoch (UTC)."""
    endpoint: str
    """'task', 'ask' or 'agent'."""
    name: str | None = None
    """The task name, the index name or the agent name."""
    input: Any = None
    """The request input as JSON-able data, after redaction."""
    output: Any = None
    prompt_name: str | None = None
    prompt_version: str | None = None
    model: str | None = None
    variant: str = "default"
    """The variant that served the request (A/B rollout); 'default' when no experiment runs."""
    experiment: str | None = None
    latency_ms: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    status: int = 200
    """The HTTP status the service answered with."""
    error_code: str | None = None
    error_message: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    """The request's root span (feedback is annotated on it in Phoenix)."""
    trace_sampled: bool | None = None
    """Whether the trace went to Phoenix (sampling, `AIAGENTS_TRACE_SAMPLE_RATIO`): False rows are not annotated
    there. None: not known (no trace, or a row older than the column)."""
    key_fingerprint: str | None = None
    """A hash of the API key that made the request; never the key."""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class FeedbackRecord:
    """Explicit (thumbs, comment) or implicit (a correction, or the output accepted as is) feedback."""

    feedback_id: str = field(default_factory=new_id)
    request_id: str
    created_at: float = field(default_factory=now)
    kind: Literal["explicit", "implicit"] = "explicit"
    thumbs: Literal["up", "down"] | None = None
    comment: str | None = None
    corrected_output: Any = None
    """The output as the user corrected it (implicit feedback)."""
    accepted: bool | None = None
    """True when the user took the output unchanged (implicit feedback)."""
    user_id: str | None = None
    key_fingerprint: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
