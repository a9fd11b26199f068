"""The marketplace example: listing attributes extracted from a seller's free text."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field

__all__ = ["Category", "Condition", "CATEGORIES", "CONDITIONS", "ListingAttributes", "ListingFromPhoto"]

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


class ListingFromPhoto(BaseModel):
    """A marketplace listing drafted from a photo of the item."""

    title: str = Field(min_length=3, max_length=80, description="Short listing title naming the product.")
    description: str = Field(description="Two or three sentences a buyer would want to read.")
    category: Category = Field(description="One of the marketplace's fixed categories.")
    price: float = Field(ge=0, description="A fair asking price in euros for the item in the photo.")
    confidence: float = Field(ge=0, le=1, description="How sure the model is of the listing (0 to 1).")
