"""`RecordsSource`: JSON, JSON lines and CSV files of records, one document per record."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aiagents.ingestion.documents import Document, Problem
from aiagents.ingestion.errors import SourceError

__all__ = ["RecordsSource", "RecordFormat"]

RecordFormat = Literal["json", "jsonl", "csv"]
_SUFFIX_FORMATS: dict[str, RecordFormat] = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
}
_ID_CANDIDATES = ("id", "_id", "doc_id", "document_id")


@dataclass(kw_only=True)
class RecordsSource:
    """Records from a `.json` (a list of objects), `.jsonl` or `.csv` file.

    The text is the named text field(s) joined by a blank line; the id comes from `id_field`;
    metadata is `metadata_fields` (default: every other scalar or list field). A bad JSON line, a
    record without the id or text, or a duplicate id is reported with its line and skipped.
    """

    path: Path
    """The records file."""
    text_fields: Sequence[str] = ("title", "text")
    """Fields joined (blank line between, empty ones left out) into the document text; at least one
    must be present in a record."""
    id_field: str | None = None
    """Field holding the stable id; None picks the first of id, _id, doc_id, document_id present."""
    metadata_fields: Sequence[str] | None = None
    """Fields copied to metadata; None copies every field that is not the id or a text field."""
    format: RecordFormat | None = None
    """File format; None decides by suffix (.json, .jsonl/.ndjson, .csv)."""
    encoding: str = "utf-8"
    name: str = field(default="", init=False)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if not self.path.is_file():
            raise SourceError(f"{self.path}: no such file; pass a .json, .jsonl or .csv file of records")
        if self.format is None:
            fmt = _SUFFIX_FORMATS.get(self.path.suffix.lower())
            if fmt is None:
                raise SourceError(
                    f"{self.path}: cannot tell the record format from the suffix; pass format='json', 'jsonl' or 'csv'"
                )
            self.format = fmt
        if isinstance(self.text_fields, str):
            self.text_fields = (self.text_fields,)
        if not self.text_fields:
            raise SourceError("text_fields is empty; name the field(s) that hold the text")
        self.name = str(self.path)

    def estimate_count(self) -> int | None:
        if self.format == "json":
            return None
        with self.path.open("rb") as f:
            return sum(1 for _ in f)

    def read(self) -> Iterator[Document | Problem]:
        seen: dict[str, int] = {}
        for line, record in self._records():
            if isinstance(record, Problem):
                yield record
                continue
            item = self._document(line, record)
            if isinstance(item, Document):
                if item.id in seen:
                    yield Problem(
                        path=self.name,
                        line=line,
                        reason=f"duplicate id {item.id!r} (first at line {seen[item.id]}); record skipped",
                    )
                    continue
                seen[item.id] = line
            yield item

    def _records(self) -> Iterator[tuple[int, Mapping[str, Any] | Problem]]:
        try:
            if self.format == "jsonl":
                yield from self._jsonl()
            elif self.format == "csv":
                yield from self._csv()
            else:
                yield from self._json()
        except UnicodeDecodeError as exc:
            yield (
                0,
                Problem(
                    path=self.name,
                    reason=f"not valid {self.encoding} (byte {exc.start}); rest skipped",
                    truncated=True,
                ),
            )

    def _jsonl(self) -> Iterator[tuple[int, Mapping[str, Any] | Problem]]:
        with self.path.open("rb") as f:
            for n, raw in enumerate(f, start=1):
                try:
                    text = raw.decode(self.encoding)
                except UnicodeDecodeError as exc:
                    yield (
                        n,
                        Problem(
                            path=self.name, line=n, reason=f"not valid {self.encoding} (byte {exc.start} of the line)"
                        ),
                    )
                    continue
                if not text.strip():
                    continue
                try:
                    value = json.loads(text)
                except json.JSONDecodeError as exc:
                    yield (
                        n,
                        Problem(path=self.name, line=n, reason=f"bad JSON: {exc.msg} (column {exc.colno})"),
                    )
                    continue
                if not isinstance(value, dict):
                    yield (
                        n,
                        Problem(path=self.name, line=n, reason=f"expected an object, got {type(value).__name__}"),
                    )
                    continue
                yield n, value

    def _csv(self) -> Iterator[tuple[int, Mapping[str, Any] | Problem]]:
        with self.path.open(encoding=self.encoding, newline="") as f:
            reader = csv.DictReader(f)
            try:
                for row in reader:
                    line = reader.line_num
                    if None in row:
                        yield (
                            line,
                            Problem(path=self.name, line=line, reason="more values than header columns"),
                        )
                        continue
                    yield line, {k: v for k, v in row.items() if v is not None}
            except csv.Error as exc:
                yield (
                    reader.line_num,
                    Problem(
                        path=self.name,
                        line=reader.line_num,
                        reason=f"bad CSV: {exc}; rest skipped",
                        truncated=True,
                    ),
                )

    def _json(self) -> Iterator[tuple[int, Mapping[str, Any] | Problem]]:
        try:
            data = json.loads(self.path.read_text(encoding=self.encoding))
        except json.JSONDecodeError as exc:
            yield (
                exc.lineno,
                Problem(
                    path=self.name,
                    line=exc.lineno,
                    reason=f"bad JSON: {exc.msg}; file skipped",
                    truncated=True,
                ),
            )
            return
        if isinstance(data, dict):  # {"records": [...]} or any object holding exactly one list
            lists = [v for v in data.values() if isinstance(v, list)]
            data = lists[0] if len(lists) == 1 else None
        if not isinstance(data, list):
            yield (
                0,
                Problem(
                    path=self.name,
                    reason="expected a list of objects (or an object holding one list)",
                    truncated=True,
                ),
            )
            return
        for n, value in enumerate(data, start=1):
            if isinstance(value, dict):
                yield n, value
            else:
                yield n, Problem(path=self.name, line=n, reason=f"record {n} is not an object")

    def _document(self, line: int, record: Mapping[str, Any]) -> Document | Problem:
        id_field = self.id_field or next((f for f in _ID_CANDIDATES if f in record), None)
        raw_id = record.get(id_field) if id_field else None
        if raw_id is None or str(raw_id).strip() == "":
            wanted = self.id_field or " or ".join(_ID_CANDIDATES)
            return Problem(path=self.name, line=line, reason=f"record has no {wanted} field; pass the id field")
        doc_id = str(raw_id).strip()
        present = [f for f in self.text_fields if f in record]
        if not present:
            return Problem(
                path=self.name,
                line=line,
                reason=f"record has none of the text field(s) {list(self.text_fields)}",
                document_id=doc_id,
            )
        text = "\n\n".join(str(record[f]).strip() for f in present if str(record[f] or "").strip())
        if self.metadata_fields is None:
            skip = {id_field, *self.text_fields}
            metadata = {k: v for k, v in record.items() if k not in skip and _is_plain(v)}
        else:
            metadata = {k: record[k] for k in self.metadata_fields if k in record}
        if "title" in record and "title" in self.text_fields:
            metadata.setdefault("title", record["title"])
        metadata.setdefault("source", self.path.name)
        return Document(id=doc_id, text=text, metadata=metadata)


def _is_plain(value: Any) -> bool:
    if isinstance(value, str | int | float | bool) or value is None:
        return True
    if isinstance(value, list):
        return all(isinstance(v, str | int | float | bool) for v in value)
    return isinstance(value, dict)
