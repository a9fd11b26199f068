"""The marketplace example: listing attributes extracted from a seller's free text."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field

__all__ = ["Category", "Condition", "CATEGORIES", "CONDITIONS", "ListingAttributes"]

Category = Literal["bikes", "electronics", "furniture", "clothing", "books", "toys", "garden", "other"]
Condition = Literal["new", "like new", "good", "fair", "for parts"]
CATEGORIES: tuple[str, ...] = get_args(Category)
CONDITIONS: tuple[str, ...] = get_args(Condition)


class ListingAttributes(BaseModel):
    """Structured attributes of a second-hand marketplace listing."""

    title: str = Field(min_length=3, max_length=80, description="Short listing title, no price.")
    category: Category = Field(description="One of the marketplace's fixed categories.")
    price: float = Field(ge=0, description="Asking price in euros (0 when the item is given away).")
    condition: Condition = Field(description="Condition of the item.")
