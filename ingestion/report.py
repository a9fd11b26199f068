"""`IngestReport`: what one ingestion run did."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from aiagents.ingestion.documents import Problem

__all__ = ["IngestReport"]


@dataclass(kw_only=True)
class IngestReport:
    """Counts, problems and timing of one `ingest` run."""

    source: str
    """What was read (path)."""
    index: str
    """Name of the index written."""
    chunker: str
    """Chunker signature."""
    embedder: str
    """Embedding model name."""
    read: int = 0
    """Documents read from the source (new + changed + unchanged + empty + failed)."""
    new: int = 0
    """Documents not in the index before, now indexed."""
    changed: int = 0
    """Documents whose content hash changed: old chunks deleted, new ones indexed."""
    unchanged: int = 0
    """Documents already indexed at the same content hash: skipped without chunking or embedding."""
    deleted: int = 0
    """Documents gone from the source (or now empty), removed from the index."""
    formats: dict[str, int] = field(default_factory=dict)
    """Documents read per format (`metadata["format"]`): pdf pages, pptx slides, xlsx sheets, markdown files..."""
    skipped: list[Problem] = field(default_factory=list)
    """Items not read (broken file, bad line, duplicate id, empty text), with path, line and reason."""
    failed: list[Problem] = field(default_factory=list)
    """Documents read but not indexed (e.g. the chunker raised); their previous version is kept."""
    chunks: int = 0
    """Chunks written to the index this run."""
    embedded: int = 0
    """Chunk texts embedded by the model (embedding-cache misses)."""
    cached: int = 0
    """Chunk vectors taken from the embedding cache."""
    deletions_skipped: bool = False
    """True when the source was not read to the end, so documents missing from it were not deleted."""
    rebuilt: str | None = None
    """Why every document was re-indexed (chunker or embedder changed, index emptied), if it was."""
    seconds: float = 0.0
    """Wall time of the run."""

    @property
    def docs_per_second(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0

    @property
    def chunks_per_second(self) -> float:
        return self.chunks / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (problems as dicts)."""
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        data["docs_per_second"] = round(self.docs_per_second, 2)
        data["chunks_per_second"] = round(self.chunks_per_second, 2)
        return data
