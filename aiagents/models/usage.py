"""Token usage and cost of model calls, where the provider reports them."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic_ai.messages import ModelResponse

__all__ = ["CallUsage", "usage_of"]


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


def usage_of(response: ModelResponse) -> CallUsage:
    """Usage of one response; cost from pydantic-ai's price table (genai-prices) when it knows the model."""
    cost: float | None
    try:
        cost = float(response.cost().total_price) if response.provider_name else None
    except Exception:  # unknown model or provider: genai-prices raises LookupError and friends
        cost = None
    return CallUsage(
        requests=1,
        input_tokens=response.usage.input_tokens or 0,
        output_tokens=response.usage.output_tokens or 0,
        cost_usd=cost,
    )
