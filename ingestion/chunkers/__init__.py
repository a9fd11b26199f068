"""Chunkers: sliding word windows, Markdown sections, sentence packing; `get_chunker` by name."""

from __future__ import annotations

from typing import Any

from aiagents.ingestion.chunkers.base import Chunker
from aiagents.ingestion.chunkers.markdown import MarkdownChunker, markdown_sections
from aiagents.ingestion.chunkers.sentences import SentenceChunker, sentence_spans
from aiagents.ingestion.chunkers.window import WindowChunker
from aiagents.ingestion.errors import ChunkerError

__all__ = [
    # protocol
    "Chunker",
    # chunkers
    "WindowChunker",
    "MarkdownChunker",
    "SentenceChunker",
    "get_chunker",
    "CHUNKERS",
    # helpers
    "markdown_sections",
    "sentence_spans",
]

CHUNKERS: dict[str, type] = {
    "markdown": MarkdownChunker,
    "sentences": SentenceChunker,
    "window": WindowChunker,
}


def get_chunker(name: str = "markdown", **params: Any) -> Chunker:
    """A chunker by name (`markdown`, `sentences`, `window`) with its parameters (`size`, `overlap`)."""
    cls = CHUNKERS.get(name)
    if cls is None:
        raise ChunkerError(f"unknown chunker {name!r}; choose one of {', '.join(CHUNKERS)}")
    try:
        return cls(**params)
    except TypeError as exc:
        raise ChunkerError(f"bad parameters for chunker {name!r}: {exc}") from exc
