"""The HTTP API's request and response bodies (pydantic: this is where untrusted input enters)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "TaskRequest",
    "TASK_MULTIPART_SCHEMA",
    "AskRequest",
    "AgentRequest",
    "FeedbackRequest",
    "Usage",
    "ServiceAnswer",
    "FeedbackAccepted",
    "ErrorDetail",
    "ErrorBody",
    "Health",
]

_ID = Field(default=None, max_length=200)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskRequest(_Body):
    """`POST /v1/tasks/{name}`: the prompt's variables."""

    input: dict[str, Any] = Field(default_factory=dict, description="The prompt's variables.")
    user_id: str | None = _ID
    session_id: str | None = _ID
    metadata: dict[str, Any] = Field(default_factory=dict, description="Stored with the request.")


TASK_MULTIPART_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "`POST /v1/tasks/{name}` with files: one part per prompt variable. Image/file variables are "
    "file parts named after the variable (media type checked from the bytes; per-file limit "
    "AIAGENTS_MEDIA_MAX_BYTES, whole body AIAGENTS_MAX_UPLOAD_BYTES); text variables are form fields, or "
    "all of them as one `input` field holding a JSON object. The files are stored once by content hash and "
    "the request log keeps `{media_type, bytes, sha256}` in their place.",
    "properties": {
        "input": {"type": "string", "description": "Optional: the text variables as a JSON object."},
        "user_id": {"type": "string", "maxLength": 200},
        "session_id": {"type": "string", "maxLength": 200},
        "metadata": {"type": "string", "description": "Optional: a JSON object stored with the request."},
    },
    "additionalProperties": {
        "anyOf": [
            {"type": "string", "format": "binary", "description": "A file for an image/file variable."},
            {"type": "string", "description": "The value of a text variable."},
        ]
    },
    "example": {"photo": "(binary PNG)", "notes": "barely used", "user_id": "u1"},
}
"""The multipart/form-data body of `POST /v1/tasks/{name}` as an OpenAPI schema (file parts and form fields
are not a pydantic model: their names are the prompt's variables)."""


class AskRequest(_Body):
    """`POST /v1/ask`: a question answered from an index (RAG)."""

    question: str = Field(min_length=1, max_length=4000)
    index: str = Field(min_length=1, max_length=128, description="An index built by `aiagents ingest`.")
    k: int = Field(default=5, ge=1, le=50)
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    filters: dict[str, Any] | None = None
    user_id: str | None = _ID
    session_id: str | None = _ID
    metadata: dict[str, Any] = Field(default_factory=dict)


class AgentRequest(_Body):
    """`POST /v1/agent`: one turn of an agent conversation (multi-turn through `session_id`)."""

    message: str = Field(min_length=1, max_length=8000)
    agent: str = Field(default="docs", max_length=100)
    index: str | None = Field(default=None, max_length=128)
    user_id: str | None = _ID
    session_id: str | None = _ID
    metadata: dict[str, Any] = Field(default_factory=dict)


class FeedbackRequest(_Body):
    """`POST /v1/feedback`: explicit (thumbs, comment) and/or implicit (corrected output, accepted) feedback."""

    request_id: str = Field(min_length=1, max_length=100)
    thumbs: Literal["up", "down"] | None = None
    comment: str | None = Field(default=None, max_length=5000)
    corrected_output: Any = Field(default=None, description="The output as the user corrected it.")
    accepted: bool | None = Field(default=None, description="True when the user took the output unchanged.")
    user_id: str | None = _ID
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _something(self) -> FeedbackRequest:
        if self.thumbs is None and self.comment is None and self.corrected_output is None and self.accepted is None:
            raise ValueError("give at least one of thumbs, comment, corrected_output, accepted")
        return self


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None


class ServiceAnswer(BaseModel):
    """Every answer: the output, the ids to find it again, and what served it."""

    output: Any
    request_id: str = Field(description="Quote it in `POST /v1/feedback`.")
    trace_id: str | None = Field(description="The trace in Phoenix (None when tracing is off).")
    variant: str = Field(description="The variant that served the request ('default' outside experiments).")
    prompt: str | None = None
    prompt_version: str | None = None
    model: str | None = None
    latency_ms: float
    usage: Usage


class FeedbackAccepted(BaseModel):
    feedback_id: str
    request_id: str
    status: Literal["accepted"] = "accepted"


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. 'unauthorized', 'unknown_task'.")
    message: str
    request_id: str | None = None


class ErrorBody(BaseModel):
    """Every error: `{"error": {"code": ..., "message": ...}}`."""

    error: ErrorDetail


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    auth: bool = Field(description="Whether API keys are required.")
    request_log: bool
    pid: int
