"""Plain data shared by ingestion (which writes chunks) and retrieval (which indexes and finds them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Chunk", "Hit"]


@dataclass(kw_only=True)
class Chunk:
    """A piece of a document, the unit that is embedded, indexed and retrieved."""

    id: str
    """Stable id: `<document_id>#<position>` unless a source gives its own."""
    text: str
    """The text that is embedded and scored by BM25."""
    document_id: str
    """Id of the `Document` this chunk came from."""
    position: int = 0
    """Index of the chunk within its document."""
    heading_path: list[str] = field(default_factory=list)
    """Markdown headings above the chunk, outermost first."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Document metadata (front matter, record fields) usable in filters."""
    span: list[int] | None = None
    """`[start, end)` character offsets of the chunk in its document's text (a PDF page's, a slide's)."""
    content_hash: str = ""
    """Hash of `text`: the key of the embedding cache."""


@dataclass(kw_only=True)
class Hit:
    """One search result with its provenance."""

    id: str
    """Chunk id."""
    text: str
    score: float
    """The score of the mode that ranked it (fused score for hybrid)."""
    document_id: str = ""
    scores: dict[str, float] = field(default_factory=dict)
    """Per-method scores, e.g. {"bm25": 12.1, "dense": 0.61, "hybrid": 0.03}."""
    metadata: dict[str, Any] = field(default_factory=dict)
    heading_path: list[str] = field(default_factory=list)
    """Headings above the passage, outermost first."""
    span: list[int] | None = None
    """`[start, end)` character offsets of the passage in its document's text, when the index has them."""
    rank: int = 0
    """1-based rank in the result list."""
