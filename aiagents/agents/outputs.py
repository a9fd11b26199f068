"""Structured outputs an agent can return."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["DocsAnswer"]


class DocsAnswer(BaseModel):
    """An answer from the documentation, with the passages it rests on."""

    answer: str = Field(description="The answer to the question, in a few sentences, citing passage ids in [brackets].")
    found_answer: bool = Field(description="True when the documentation contains the answer; False otherwise.")
    references: list[str] = Field(default_factory=list, description="Ids of the passages the answer uses.")
    confidence: float = Field(ge=0, le=1, description="How sure the answer is right, from 0 to 1.")
