"""`BeirSource`: a BEIR corpus (`corpus.jsonl` with `_id`, `title`, `text`), read by `aiagents.retrieval.beir`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aiagents.ingestion.documents import Document, Problem
from aiagents.ingestion.errors import SourceError
from aiagents.retrieval.beir import document_text, iter_corpus
from aiagents.retrieval.errors import BeirFormatError

__all__ = ["BeirSource"]


@dataclass(kw_only=True)
class BeirSource:
    """Documents of a BEIR corpus: id = `_id`, text = title + " " + text (BEIR's convention, the same
    as `aiagents.retrieval.beir.document_text`), metadata = the title and the record's other fields.

    `aiagents.retrieval.beir.iter_corpus` stops at the first broken line; that line is reported as a
    `Problem` with `truncated=True` (nothing is deleted from the index on such a run).
    """

    path: Path
    """The corpus file, or a BEIR data set folder holding `corpus.jsonl`."""
    name: str = field(default="", init=False)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if self.path.is_dir():
            self.path = self.path / "corpus.jsonl"
        if not self.path.is_file():
            raise SourceError(f"{self.path}: no such file; pass a BEIR corpus.jsonl or the folder holding it")
        self.name = str(self.path)

    def estimate_count(self) -> int | None:
        with self.path.open("rb") as f:
            return sum(1 for _ in f)

    def read(self) -> Iterator[Document | Problem]:
        try:
            for rec in iter_corpus(self.path):
                metadata = {"title": rec.title, **rec.metadata} if rec.title else dict(rec.metadata)
                yield Document(id=rec.id, text=document_text(rec.title, rec.text), metadata=metadata)
        except (BeirFormatError, UnicodeDecodeError) as exc:
            yield Problem(path=self.name, reason=f"{exc}; the rest of the corpus was not read", truncated=True)
