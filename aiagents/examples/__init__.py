"""Worked examples that ship with the framework (output models referenced by the shipped prompts)."""

from aiagents.examples.listing import CATEGORIES, CONDITIONS, ListingAttributes, ListingFromPhoto

__all__ = ["CATEGORIES", "CONDITIONS", "ListingAttributes", "ListingFromPhoto"]
