"""Readers for BEIR-format data: corpus.jsonl, queries.jsonl and qrels TSV files.

Each reader streams its file and raises `BeirFormatError` naming the file and 1-based line number of
the first broken line, so a user can open the file at that line.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiagents.retrieval.errors import BeirFormatError

__all__ = ["BeirDocument", "iter_corpus", "load_queries", "load_qrels", "load_judged_qrels", "document_text"]


@dataclass(kw_only=True)
class BeirDocument:
    """One corpus record."""

    id: str
    """The record's `_id`."""
    title: str = ""
    text: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Any other fields of the record (BEIR's `metadata` object merged with unknown keys)."""

    def __iter__(self) -> Iterator[Any]:
        """Unpacks as `(_id, title, text, metadata)`."""
        return iter((self.id, self.title, self.text, self.metadata))


def document_text(title: str, text: str) -> str:
    """BEIR's convention for the indexed text: title + " " + text (just the text without a title)."""
    return f"{title} {text}" if title else text


def _json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise BeirFormatError(f"{path}:{lineno}: not valid JSON ({e.msg}); fix or delete the line") from e
            if not isinstance(record, dict):
                raise BeirFormatError(f"{path}:{lineno}: expected a JSON object, got {type(record).__name__}")
            if "_id" not in record:
                raise BeirFormatError(f"{path}:{lineno}: record has no '_id' field")
            yield lineno, record


def iter_corpus(path: str | Path) -> Iterator[BeirDocument]:
    """Lazily yield the documents of a BEIR corpus.jsonl (`_id`, `title`, `text`, other fields)."""
    path = Path(path)
    for lineno, record in _json_lines(path):
        text = record.get("text", "")
        title = record.get("title", "") or ""
        if not isinstance(text, str) or not isinstance(title, str):
            raise BeirFormatError(f"{path}:{lineno}: 'title' and 'text' must be strings")
        metadata = dict(record.get("metadata") or {})
        metadata.update({k: v for k, v in record.items() if k not in ("_id", "title", "text", "metadata")})
        yield BeirDocument(id=str(record["_id"]), title=title, text=text, metadata=metadata)


def load_queries(path: str | Path) -> dict[str, str]:
    """Query id -> query text from a BEIR queries.jsonl."""
    path = Path(path)
    queries: dict[str, str] = {}
    for lineno, record in _json_lines(path):
        text = record.get("text")
        if not isinstance(text, str):
            raise BeirFormatError(f"{path}:{lineno}: query has no string 'text'")
        queries[str(record["_id"])] = text
    return queries


def load_qrels(path: str | Path) -> dict[str, dict[str, int]]:
    """Query id -> {document id: relevance grade} from a BEIR qrels TSV (header line optional)."""
    path = Path(path)
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for lineno, row in enumerate(csv.reader(f, delimiter="\t"), start=1):
            if not row or not "".join(row).strip():
                continue
            if lineno == 1 and row[0].strip().lower() in ("query-id", "query_id", "qid"):
                continue
            if len(row) < 3:
                raise BeirFormatError(
                    f"{path}:{lineno}: expected 'query-id<TAB>corpus-id<TAB>score', got {len(row)} field(s)"
                )
            try:
                grade = int(float(row[2]))
            except ValueError as e:
                raise BeirFormatError(f"{path}:{lineno}: score {row[2]!r} is not a number") from e
            qrels.setdefault(row[0].strip(), {})[row[1].strip()] = grade
    return qrels


def load_judged_qrels(path: str | Path) -> dict[str, dict[str, int]]:
    """`load_qrels` without the queries that have no relevant document (grade > 0): the ones metrics score."""
    return {q: rels for q, rels in load_qrels(path).items() if any(g > 0 for g in rels.values())}
