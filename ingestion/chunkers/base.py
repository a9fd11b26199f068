"""The `Chunker` protocol and the helpers every chunker shares (word spans, chunk construction)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from aiagents.ingestion.documents import Document, text_hash
from aiagents.retrieval.types import Chunk

__all__ = ["Chunker", "Piece", "word_spans", "make_chunks", "window_spans"]

# The unit of every size here is a whitespace-separated word (`\S+`), not a model token: it keeps
# chunk text an exact slice of the document and needs no model. English prose runs about 1.3
# WordPiece tokens per word, so 200 words fit all-MiniLM-L6-v2's 256-token window.
_WORD = re.compile(r"\S+")

Piece = tuple[int, int, list[str]]
"""A chunk before construction: (start offset, end offset, heading path)."""


@runtime_checkable
class Chunker(Protocol):
    """Splits a document into chunks; `signature` changes whenever the output would."""

    @property
    def signature(self) -> str:
        """Name and parameters, recorded with an index: a different signature re-chunks everything."""
        ...

    def chunk(self, document: Document) -> list[Chunk]:
        """The chunks of `document`, positions 0..n-1, ids `<document_id>#<position>`."""
        ...


def word_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) offsets of the words of `text[start:end]`, as offsets into `text`."""
    return [m.span() for m in _WORD.finditer(text, start, len(text) if end is None else end)]


def window_spans(words: Sequence[tuple[int, int]], size: int, overlap: int) -> list[tuple[int, int]]:
    """Sliding windows of `size` words advancing by `size - overlap`: (start, end) text offsets.

    The last window ends at the last word; no window is a suffix of the one before it.
    """
    if not words:
        return []
    step = size - overlap
    out = []
    for first in range(0, len(words), step):
        last = min(first + size, len(words)) - 1
        out.append((words[first][0], words[last][1]))
        if last == len(words) - 1:
            break
    return out


def check_sizes(size: int, overlap: int) -> None:
    from aiagents.ingestion.errors import ChunkerError

    if size < 1:
        raise ChunkerError(f"chunk size must be at least 1 word, got {size}")
    if not 0 <= overlap < size:
        raise ChunkerError(f"overlap must be in [0, size) = [0, {size}), got {overlap}")


def make_chunks(document: Document, text: str, pieces: Sequence[Piece]) -> list[Chunk]:
    """Build the `Chunk`s of `document` from offset pieces of `text` (empty pieces are dropped)."""
    chunks: list[Chunk] = []
    for start, end, heading_path in pieces:
        raw = text[start:end]
        body = raw.strip()
        if not body:
            continue
        first = start + len(raw) - len(raw.lstrip())
        position = len(chunks)
        chunks.append(
            Chunk(
                id=f"{document.id}#{position}",
                text=body,
                document_id=document.id,
                position=position,
                heading_path=list(heading_path),
                metadata=dict(document.metadata),
                span=[first, first + len(body)] if text is document.text else None,
                content_hash=text_hash(body),
            )
        )
    return chunks
