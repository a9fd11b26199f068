"""Sources: folders of files, record files, BEIR corpora; `open_source` picks one from the path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from aiagents.ingestion.errors import SourceError
from aiagents.ingestion.sources.base import Source, read_all
from aiagents.ingestion.sources.beir import BeirSource
from aiagents.ingestion.sources.files import DEFAULT_EXTENSIONS, FolderSource, split_front_matter
from aiagents.ingestion.sources.html import html_to_text
from aiagents.ingestion.sources.records import RecordsSource
from aiagents.ingestion.sources.web import WebSource, is_url

__all__ = [
    "Source",
    "FolderSource",
    "RecordsSource",
    "BeirSource",
    "WebSource",
    "SourceKind",
    "open_source",
    "detect_kind",
    "read_all",
    "split_front_matter",
    "html_to_text",
]

SourceKind = Literal["folder", "records", "beir"]
_RECORD_SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv")


def detect_kind(path: str | Path) -> SourceKind:
    """Guess the source kind: a BEIR corpus (`corpus.jsonl`, a folder holding one, or JSON lines whose
    first record has `_id` and `text`), a record file (.json/.jsonl/.csv), else a folder of files."""
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder")
    if path.is_dir():
        return "beir" if (path / "corpus.jsonl").is_file() else "folder"
    suffix = path.suffix.lower()
    if path.name == "corpus.jsonl":
        return "beir"
    if suffix in (".jsonl", ".ndjson") and _looks_beir(path):
        return "beir"
    if suffix in _RECORD_SUFFIXES:
        return "records"
    if suffix in DEFAULT_EXTENSIONS:
        return "folder"
    raise SourceError(f"{path}: cannot tell what kind of source this is; pass kind='folder', 'records' or 'beir'")


def _looks_beir(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    first = json.loads(line)
                    return isinstance(first, dict) and "_id" in first and "text" in first
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return False


def open_source(path: str | Path, *, kind: SourceKind | None = None, **options: Any) -> Source:
    """A source for `path`; `kind` overrides detection, `options` go to the source class
    (e.g. `text_fields=`, `id_field=` for records, `extensions=` for folders). An http(s) URL is a web page."""
    if is_url(str(path)) and kind is None:
        return WebSource(urls=[str(path)], **options)
    kind = kind or detect_kind(path)
    classes: dict[str, type] = {"folder": FolderSource, "records": RecordsSource, "beir": BeirSource}
    if kind not in classes:
        raise SourceError(f"unknown source kind {kind!r}; choose folder, records or beir")
    try:
        return classes[kind](path=Path(path), **options)
    except TypeError as exc:
        raise SourceError(f"bad options for a {kind} source: {exc}") from exc
