"""Two error families: `UserError` for misuse (fix your input), `RunError` for failures during a run."""

from __future__ import annotations

__all__ = [
    "AiAgentsError",
    "UserError",
    "PromptError",
    "PromptFileError",
    "MissingVariableError",
    "UnknownVariableError",
    "PromptNotFoundError",
    "UnknownModelError",
    "ModelNotConfiguredError",
    "RunError",
    "OutputValidationError",
    "ModelCallError",
    "TruncatedOutputError",
]


class AiAgentsError(Exception):
    """Base of every error the framework raises on purpose."""


class UserError(AiAgentsError):
    """The caller misused the framework; the message says what to change."""


class PromptError(UserError):
    """A prompt file or its rendering is wrong."""


class PromptFileError(PromptError):
    """A prompt file cannot be parsed (names the file and, where known, the line)."""


class PromptNotFoundError(PromptError):
    """No prompt (or no such version/label) by that name."""


class MissingVariableError(PromptError):
    """Rendering lacks a variable the template needs."""


class UnknownVariableError(PromptError):
    """Rendering got a variable the prompt does not declare."""


class UnknownModelError(UserError):
    """A model name that `resolve_model` cannot map to a provider."""


class ModelNotConfiguredError(UserError):
    """A provider model was asked for but its API key is not configured."""


class RunError(AiAgentsError):
    """Something failed while a task or agent was running."""


class OutputValidationError(RunError):
    """The model's output did not fit the output schema after all retries."""

    def __init__(self, message: str, *, attempts: int, last_output: str | None, errors: str) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.last_output = last_output
        self.errors = errors


class ModelCallError(RunError):
    """The model provider refused or failed a call (context window, rate limit, timeout, server error, ...).

    The message says what the model or its server did and what to do; `kind` is a stable short name
    ('context_window', 'rate_limit', 'timeout', 'connection', 'auth', 'not_found', 'server', 'http', 'behaviour')."""

    TRANSIENT = frozenset({"rate_limit", "timeout", "connection", "server"})
    """Kinds another attempt may fix; the others (a context overflow, a bad key, a 4xx) fail the same way again."""

    def __init__(self, message: str, *, kind: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status

    @property
    def retryable(self) -> bool:
        """Whether retrying the same call can help."""
        return self.kind in self.TRANSIENT


class TruncatedOutputError(RunError):
    """The model stopped at its output token limit (`finish_reason=length`): the answer is cut off, so it is not
    used. Raise the prompt's `max_tokens` or ask for a shorter answer."""
