"""`MarkdownChunker`: one chunk per Markdown section, with its heading path; long sections split."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiagents.ingestion.chunkers.base import Piece, check_sizes, make_chunks, word_spans
from aiagents.ingestion.chunkers.sentences import pack_sentences
from aiagents.ingestion.documents import Document
from aiagents.retrieval.types import Chunk
from markdown_it import MarkdownIt

__all__ = ["MarkdownChunker", "markdown_sections"]

_MD = MarkdownIt("commonmark")
_NEWLINE = re.compile("\n")


def markdown_sections(text: str) -> list[tuple[int, int, list[str]]]:
    """Sections of a Markdown text: (start offset, end offset, heading path), in order.

    A section runs from its heading line to the next heading of any level; text before the first
    heading is a section with an empty path. Headings are found by markdown-it (CommonMark), so `#`
    lines inside code blocks are not headings and setext (`===`) headings are.
    """
    line_starts = [0, *(m.end() for m in _NEWLINE.finditer(text))]
    tokens = _MD.parse(text)
    headings: list[tuple[int, int, str]] = []  # (line, level, title)
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.level == 0 and tok.map:
            title = tokens[i + 1].content.strip() if i + 1 < len(tokens) else ""
            headings.append((tok.map[0], int(tok.tag[1]), title))
    sections: list[tuple[int, int, list[str]]] = []
    first = line_starts[headings[0][0]] if headings else len(text)
    if text[:first].strip():
        sections.append((0, first, []))
    stack: list[tuple[int, str]] = []
    for n, (line, level, title) in enumerate(headings):
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        start = line_starts[line]
        end = line_starts[headings[n + 1][0]] if n + 1 < len(headings) else len(text)
        sections.append((start, end, [t for _, t in stack]))
    return sections


@dataclass(kw_only=True)
class MarkdownChunker:
    """A chunk per section (heading line included) carrying the heading path, outermost first.

    Sections longer than `size` words are split by sentence packing (`SentenceChunker`'s rule) with
    `overlap`; sections with a heading and no body are dropped (their heading is on the children's
    paths). Text without headings is one section, so this chunker also suits plain text.
    """

    size: int = 200
    """Maximum words per chunk."""
    overlap: int = 30
    """Words of whole sentences repeated between the pieces of a split section."""

    def __post_init__(self) -> None:
        check_sizes(self.size, self.overlap)

    @property
    def signature(self) -> str:
        return f"markdown(size={self.size},overlap={self.overlap})"

    def chunk(self, document: Document) -> list[Chunk]:
        text = document.text
        pieces: list[Piece] = []
        for start, end, path in markdown_sections(text):
            words = word_spans(text, start, end)
            if path and _heading_only(text, start, end):
                continue
            if len(words) <= self.size:
                pieces.append((start, end, path))
            else:
                pieces.extend(pack_sentences(text, start, end, size=self.size, overlap=self.overlap, heading_path=path))
        return make_chunks(document, text, pieces)


def _heading_only(text: str, start: int, end: int) -> bool:
    """True when the section is its heading line(s) and nothing else."""
    tokens = _MD.parse(text[start:end])
    return (
        all(t.type.startswith("heading") or t.type == "inline" for t in tokens)
        and sum(t.type == "heading_open" for t in tokens) <= 1
    )
