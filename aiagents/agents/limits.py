"""Usage limits of one agent run: model requests, tool calls, tokens."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic_ai import UsageLimitExceeded, UsageLimits

__all__ = ["Limits", "DEFAULT_LIMITS", "limit_of"]

# pydantic-ai's limit names (in its messages) -> ours
_NAMES = {
    "request_limit": "max_requests",
    "tool_calls_limit": "max_tool_calls",
    "total_tokens_limit": "max_tokens",
    "input_tokens_limit": "max_input_tokens",
    "output_tokens_limit": "max_output_tokens",
}


@dataclass(kw_only=True, frozen=True)
class Limits:
    """The budget of one run; None means no limit. Reaching one ends the run with `UsageLimitError`."""

    max_requests: int | None = 10
    """Model requests (each model turn is one)."""
    max_tool_calls: int | None = 20
    """Tool calls that ran (output-tool calls not counted)."""
    max_tokens: int | None = None
    """Input + output tokens over the run."""
    max_input_tokens: int | None = None
    """Input tokens over the run."""
    max_output_tokens: int | None = None
    """Output tokens over the run."""

    def usage_limits(self) -> UsageLimits:
        """The pydantic-ai `UsageLimits` that enforce these."""
        return UsageLimits(
            request_limit=self.max_requests,
            tool_calls_limit=self.max_tool_calls,
            total_tokens_limit=self.max_tokens,
            input_tokens_limit=self.max_input_tokens,
            output_tokens_limit=self.max_output_tokens,
        )


DEFAULT_LIMITS = Limits()


def limit_of(exc: UsageLimitExceeded, limits: Limits) -> tuple[str, int | None]:
    """Which of our limits `exc` reports, and its configured value."""
    text = str(exc)
    for pyd, ours in _NAMES.items():
        if pyd in text:
            return ours, getattr(limits, ours)
    return "unknown", None
