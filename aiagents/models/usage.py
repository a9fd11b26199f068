"""Token usage and cost of model calls, where the provider reports them."""

from __future__ import annotations

from pydantic_ai.messages import ModelResponse

from aiagents.usage import CallUsage

__all__ = ["CallUsage", "usage_of"]


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
