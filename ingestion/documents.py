"""`Document`: one item read from a source, before chunking."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Document", "Problem", "content_hash", "text_hash"]


def text_hash(text: str) -> str:
    """SHA-256 of a text (hex): the key of the embedding cache for a chunk."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(text: str, metadata: dict[str, Any] | None = None) -> str:
    """SHA-256 over the text and the canonical JSON of the metadata.

    Metadata is part of the hash because it is stored with every chunk (filters read it): a changed
    front matter field must re-index the document even when the body is the same.
    """
    h = hashlib.sha256(text.encode("utf-8"))
    h.update(b"\x00")
    h.update(json.dumps(metadata or {}, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8"))
    return h.hexdigest()


@dataclass(kw_only=True)
class Document:
    """A source item (file, record, corpus entry) with a stable id."""

    id: str
    """Stable id: the path relative to the source folder, or the record's id field."""
    text: str
    """The plain text to chunk (front matter removed, HTML converted to text)."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Front matter, record fields or corpus fields; copied to every chunk (filters read it)."""
    hash: str = ""
    """Content hash of text + metadata; computed when left empty. Decides whether to re-index."""

    def __post_init__(self) -> None:
        if not self.hash:
            self.hash = content_hash(self.text, self.metadata)


@dataclass(kw_only=True)
class Problem:
    """An item skipped or failed during ingestion, with where and why."""

    path: str
    """File the item came from (or the document id when there is no file)."""
    reason: str
    """What is wrong, in words a user can act on."""
    line: int | None = None
    """1-based line in `path`, when known (JSON lines, CSV rows, front matter)."""
    document_id: str | None = None
    """Id of the document, when known; an indexed document with a problem is kept, not deleted."""
    truncated: bool = False
    """Reading stopped here: the rest of the source was not read, so nothing is deleted this run."""

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}"
