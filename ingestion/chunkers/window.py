"""`WindowChunker`: fixed-size sliding windows of words with overlap."""

from __future__ import annotations

from dataclasses import dataclass

from aiagents.ingestion.chunkers.base import check_sizes, make_chunks, window_spans, word_spans
from aiagents.ingestion.documents import Document
from aiagents.retrieval.types import Chunk

__all__ = ["WindowChunker"]


@dataclass(kw_only=True)
class WindowChunker:
    """Windows of `size` words, each starting `size - overlap` words after the previous one.

    Words are whitespace-separated (`\\S+`); each chunk's text is the exact slice of the document
    from its first word to its last. Headings are not tracked (heading path is empty).
    """

    size: int = 200
    """Words per chunk."""
    overlap: int = 40
    """Words shared by consecutive chunks."""

    def __post_init__(self) -> None:
        check_sizes(self.size, self.overlap)

    @property
    def signature(self) -> str:
        return f"window(size={self.size},overlap={self.overlap})"

    def chunk(self, document: Document) -> list[Chunk]:
        spans = window_spans(word_spans(document.text), self.size, self.overlap)
        return make_chunks(document, document.text, [(s, e, []) for s, e in spans])
