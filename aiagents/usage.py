"""Token and request counts and cost: one vocabulary for model calls, runs and trajectories."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CallUsage"]


@dataclass(kw_only=True)
class CallUsage:
    """Tokens and cost of one or more model requests."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    """None when the price of the model is unknown (offline, local servers, new models)."""

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: CallUsage) -> CallUsage:
        costs = [c for c in (self.cost_usd, other.cost_usd) if c is not None]
        return CallUsage(
            requests=self.requests + other.requests,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cost_usd=sum(costs) if costs else None,
        )
