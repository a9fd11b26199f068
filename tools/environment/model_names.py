"""Model strings in environments mean what they mean everywhere in the framework (`aiagents.models`)."""

from __future__ import annotations

from pydantic_ai.models import Model

__all__ = ["resolve"]


def resolve(model: Model | str) -> Model:
    """A model object: strings go through `aiagents.models` (``offline``, ``openai:...``,
    ``openai-compatible:NAME@URL``, ``replay:FILE``, with the configured keys and settings)."""
    if isinstance(model, str):
        from aiagents.models import resolve_model

        return resolve_model(model).model
    return model
