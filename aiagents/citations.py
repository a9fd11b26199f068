"""How a passage is cited to a person: its file and where in it (``manual.pdf p. 12``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["citation_label"]


def citation_label(
    document_id: str, metadata: Mapping[str, Any] | None = None, heading_path: Sequence[str] = ()
) -> str:
    """``manual.pdf p. 12``, ``deck.pptx slide 3``, ``prices.xlsx sheet Prices``, ``guide.docx § Express``
    (a Word file has no pages: its section), or the file (``refunds.md``).

    Reads the provenance ingestion stores with every chunk (``source``, ``page``, ``slide``, ``sheet``, the
    headings above it)."""
    meta = metadata or {}
    source = str(meta.get("source") or document_id.split("#", 1)[0] or document_id)
    for key, word in (("page", "p."), ("slide", "slide"), ("sheet", "sheet")):
        if meta.get(key) not in (None, ""):
            return f"{source} {word} {meta[key]}"
    if meta.get("format") == "docx" and heading_path:
        return f"{source} § {heading_path[-1]}"
    return source
