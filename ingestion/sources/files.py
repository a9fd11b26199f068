"""`FolderSource`: Markdown, MDX, text, HTML, PDF, Word, PowerPoint and Excel files under a folder (or one file)."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiagents.ingestion.documents import Document, Problem
from aiagents.ingestion.errors import SourceError
from aiagents.ingestion.sources.html import page_text
from aiagents.ingestion.sources.office import FORMATS as OFFICE_FORMATS
from aiagents.ingestion.sources.office import OFFICE_EXTENSIONS, UnreadableFile, count_parts, read_parts

__all__ = ["FolderSource", "split_front_matter", "DEFAULT_EXTENSIONS", "TEXT_EXTENSIONS"]

TEXT_EXTENSIONS: tuple[str, ...] = (".md", ".markdown", ".mdx", ".txt", ".text", ".html", ".htm")
DEFAULT_EXTENSIONS: tuple[str, ...] = TEXT_EXTENSIONS + OFFICE_EXTENSIONS
_FORMATS = {".md": "markdown", ".markdown": "markdown", ".mdx": "mdx", ".html": "html", ".htm": "html"}
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M)
# MDX module lines (`import X from "..."`, `export const meta = ...`) are code, not prose.
_MDX_MODULE_LINE = re.compile(r"^(?:import|export)\s.*$", re.M)


class FrontMatterError(ValueError):
    """Front matter that is not valid YAML or not a mapping; `line` is 1-based in the file."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split `---` YAML front matter from a Markdown text: (metadata, body).

    Raises `FrontMatterError` (with the file line) when the block is not YAML or not a mapping; a
    text that opens with `---` but never closes it has no front matter.
    """
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text
    try:
        data = yaml.safe_load(m.group(1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None  # +1 for the opening `---`, +1 to 1-based
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FrontMatterError(f"front matter is not valid YAML: {problem}", line) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FrontMatterError(f"front matter must be a mapping of keys, got {type(data).__name__}", 2)
    return {str(k): _plain(v) for k, v in data.items()}, text[m.end() :]


def _plain(value: Any) -> Any:
    """YAML dates become ISO strings so metadata stays JSON (hashing, index payloads)."""
    if isinstance(value, _dt.date | _dt.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


@dataclass(kw_only=True)
class FolderSource:
    """Every matching file under `path` (recursively); a document per file, id = relative POSIX path.

    YAML front matter becomes metadata; HTML is converted to text (its `<title>` becomes
    `metadata["title"]`); MDX import/export lines are dropped. Each document also gets
    `metadata["source"]` (the relative path) and `metadata["format"]`.

    A PDF is a document per page (id `manual.pdf#p12`, `metadata["page"]`), a deck one per slide
    (`deck.pptx#s3`, `metadata["slide"]`), a workbook one per sheet (`book.xlsx#Prices`, `metadata["sheet"]`);
    a Word file is one document with Markdown headings and tables. So a changed PDF re-embeds only the pages
    that changed. A page without a text layer is reported, not indexed; an encrypted or damaged file is
    reported with its reason and the rest is read.
    """

    path: Path
    """A folder (read recursively) or a single file."""
    extensions: Sequence[str] = DEFAULT_EXTENSIONS
    """File suffixes to read (lower case, with the dot)."""
    encoding: str = "utf-8"
    """Text encoding; a file that does not decode is skipped and reported."""
    exclude_hidden: bool = True
    """Skip files and folders whose name starts with a dot."""
    name: str = field(default="", init=False)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if not self.path.exists():
            raise SourceError(f"{self.path}: no such file or folder; pass an existing path to ingest")
        self.extensions = tuple(e.lower() if e.startswith(".") else f".{e.lower()}" for e in self.extensions)
        self.name = str(self.path)

    def files(self) -> list[Path]:
        """The files that will be read, in a stable (sorted) order."""
        if self.path.is_file():
            return [self.path]
        out = []
        for p in sorted(self.path.rglob("*")):
            rel = p.relative_to(self.path)
            if self.exclude_hidden and any(part.startswith(".") for part in rel.parts):
                continue
            if p.is_file() and p.suffix.lower() in self.extensions:
                out.append(p)
        return out

    def estimate_count(self) -> int | None:
        """Documents to expect: a PDF counts its pages (the progress bar moves by pages)."""
        return sum(count_parts(f) if f.suffix.lower() == ".pdf" else 1 for f in self.files())

    def read(self) -> Iterator[Document | Problem]:
        root = self.path.parent if self.path.is_file() else self.path
        for file in self.files():
            doc_id = file.relative_to(root).as_posix()
            if file.suffix.lower() in OFFICE_EXTENSIONS:
                yield from self._office(file, doc_id)
                continue
            try:
                raw = file.read_bytes()
            except OSError as exc:
                yield Problem(path=str(file), reason=f"cannot read: {exc.strerror}", document_id=doc_id)
                continue
            try:
                text = raw.decode(self.encoding)
            except UnicodeDecodeError as exc:
                line = raw[: exc.start].count(b"\n") + 1
                yield Problem(
                    path=str(file),
                    line=line,
                    reason=f"not valid {self.encoding} (byte {exc.start}); convert it to {self.encoding}",
                    document_id=doc_id,
                )
                continue
            text = text.removeprefix("\ufeff")
            try:
                yield self._document(doc_id, file.suffix.lower(), text)
            except FrontMatterError as exc:
                yield Problem(path=str(file), line=exc.line, reason=str(exc), document_id=doc_id)

    def _office(self, file: Path, doc_id: str) -> Iterator[Document | Problem]:
        fmt = OFFICE_FORMATS[file.suffix.lower()]
        try:
            parts = read_parts(file)
        except UnreadableFile as exc:
            yield Problem(path=str(file), reason=str(exc), document_id=doc_id)
            return
        for part in parts:
            part_id = f"{doc_id}#{part.key}" if part.key else doc_id
            if part.problem is not None:
                yield Problem(path=str(file), reason=part.problem, document_id=part_id)
                continue
            metadata = {"source": doc_id, "format": fmt, **part.location}
            yield Document(id=part_id, text=part.text, metadata=metadata)

    def _document(self, doc_id: str, suffix: str, text: str) -> Document:
        fmt = _FORMATS.get(suffix, "text")
        metadata: dict[str, Any] = {}
        if fmt == "html":
            text, title = page_text(text)
            if title:
                metadata["title"] = title
        else:
            if fmt in ("markdown", "mdx", "text"):
                metadata, text = split_front_matter(text)
            if fmt == "mdx":
                text = _MDX_MODULE_LINE.sub("", text)
        metadata.setdefault("source", doc_id)
        metadata.setdefault("format", fmt)
        return Document(id=doc_id, text=text.strip(), metadata=metadata)
