"""`model_call_error`: what a provider exception means, as the framework's `ModelCallError` with what to do.

pydantic-ai already classifies provider failures (`ModelContextWindowExceededError`, `ModelRateLimitError`, ...);
this turns them into one error family the CLI, the service and the eval runner report without a traceback.
"""

from __future__ import annotations

from pydantic_ai import exceptions as pe

from aiagents.errors import ModelCallError

__all__ = ["model_call_error"]

_ADVICE: list[tuple[type[BaseException], str, str]] = [
    (pe.ModelContextWindowExceededError, "context_window", "the input does not fit the model's context window; "
     "shorten the input (or the conversation) or use a model with a larger context"),
    (pe.ModelRateLimitError, "rate_limit", "the provider is rate-limiting this key (retried already); slow down, "
     "raise AIAGENTS_MAX_RETRIES or ask the provider for a higher limit"),
    (pe.ModelTimeoutError, "timeout", "the model did not answer in time; retry, or give it a longer timeout"),
    (pe.ModelConnectionError, "connection", "the model server cannot be reached; check its URL and that it runs"),
    (pe.ModelAuthenticationError, "auth", "the provider refused the API key; check the key for this provider"),
    (pe.ModelNotFoundError, "not_found", "the provider has no such model; check the model name"),
    (pe.ModelServerError, "server", "the model server failed (5xx; retried already); try again later"),
    (pe.ModelHTTPError, "http", "the model server refused the request"),
    (pe.UnexpectedModelBehavior, "behaviour", "the model answered something the framework cannot use"),
]  # fmt: skip


def model_call_error(exc: BaseException, model: str) -> ModelCallError | None:
    """The `ModelCallError` for a provider exception raised while calling `model`; None for anything else."""
    for kind_type, kind, advice in _ADVICE:
        if isinstance(exc, kind_type):
            status = getattr(exc, "status_code", None)
            detail = getattr(exc, "message", None) or str(exc)
            body = getattr(exc, "body", None)
            if body and str(body) not in detail:
                detail = f"{detail}: {str(body)[:300]}"
            said = f"answered {status}" if status else "failed"
            return ModelCallError(f"model {model} {said}: {detail} ({advice})", kind=kind, status=status)
    return None
