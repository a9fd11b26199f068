"""`SentenceChunker`: whole sentences packed into chunks up to a size."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiagents.ingestion.chunkers.base import Piece, check_sizes, make_chunks, window_spans, word_spans
from aiagents.ingestion.documents import Document
from aiagents.retrieval.types import Chunk

__all__ = ["SentenceChunker", "sentence_spans", "pack_sentences"]

# Hand-written splitter: the usual libraries need downloaded models (nltk punkt, spaCy) that this
# offline setup cannot fetch. A boundary is . ! or ? (plus closing quotes/brackets) followed by
# whitespace and a capital, digit or opening quote, unless the word before is a known abbreviation;
# a blank line always ends a sentence.
_BOUNDARY = re.compile(r"[.!?][\"')\]]*\s+(?=[A-Z0-9\"'(\[])")
_BLOCK_BREAK = re.compile(r"(?P<heading>^[ ]{0,3}#{1,6}(?:[ \t][^\n]*)?$)|\n[ \t]*\n", re.M)
_ABBREVIATIONS = {
    "e.g.", "i.e.", "etc.", "vs.", "cf.", "al.", "fig.", "figs.", "eq.", "no.", "dr.", "mr.", "mrs.", "ms.",
    "prof.", "st.", "approx.", "ca.", "inc.", "ltd.", "jr.", "sr.", "u.s.", "dept.", "vol.", "p.",
}  # fmt: skip


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of `text[start:end]`, whitespace trimmed.

    Blank lines end a sentence, and a Markdown heading line is a sentence of its own.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _blocks(text, start, end):
        cur = block_start
        for m in _BOUNDARY.finditer(text, block_start, block_end):
            before = text[cur : m.start() + 1].split()
            word = before[-1].lower().lstrip("(\"'") if before else ""
            if word in _ABBREVIATIONS or re.fullmatch(r"[a-z]\.", word):  # "J. Smith", "p. 4"
                continue
            stop = m.start() + len(m.group().rstrip())
            if text[cur:stop].strip():
                spans.append(_trim(text, cur, stop))
            cur = m.end()
        if text[cur:block_end].strip():
            spans.append(_trim(text, cur, block_end))
    return spans


def _blocks(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split at blank lines and around heading lines: paragraphs and headings, as offsets."""
    blocks: list[tuple[int, int]] = []
    cur = start
    for m in _BLOCK_BREAK.finditer(text, start, end):
        if m.group("heading"):
            blocks.append((cur, m.start()))
            blocks.append((m.start(), m.end()))
        else:
            blocks.append((cur, m.start()))
        cur = m.end()
    blocks.append((cur, end))
    return [(s, e) for s, e in blocks if text[s:e].strip()]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def pack_sentences(text: str, start: int, end: int, *, size: int, overlap: int, heading_path: list[str]) -> list[Piece]:
    """Greedy packing of whole sentences into pieces of at most `size` words.

    The next piece starts with the last sentences of the previous one that fit in `overlap` words.
    A sentence longer than `size` is cut into word windows of `size` with `overlap`.
    """
    units: list[tuple[int, int, int]] = []  # (start, end, words)
    for s, e in sentence_spans(text, start, end):
        words = word_spans(text, s, e)
        if len(words) <= size:
            units.append((s, e, len(words)))
        else:
            units.extend((ws, we, len(word_spans(text, ws, we))) for ws, we in window_spans(words, size, overlap))
    pieces: list[Piece] = []
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and (j == i or total + units[j][2] <= size):
            total += units[j][2]
            j += 1
        pieces.append((units[i][0], units[j - 1][1], heading_path))
        if j >= len(units):
            break
        # carry trailing sentences (at most `overlap` words, never the whole piece) into the next one
        k, carried = j, 0
        while k - 1 > i and carried + units[k - 1][2] <= overlap:
            carried += units[k - 1][2]
            k -= 1
        i = k
    return pieces


@dataclass(kw_only=True)
class SentenceChunker:
    """Sentences packed greedily up to `size` words; consecutive chunks share up to `overlap` words
    of whole sentences. Sizes count whitespace-separated words."""

    size: int = 200
    """Maximum words per chunk (a single longer sentence is cut into windows)."""
    overlap: int = 0
    """Words of trailing whole sentences repeated at the start of the next chunk."""

    def __post_init__(self) -> None:
        check_sizes(self.size, self.overlap)

    @property
    def signature(self) -> str:
        return f"sentences(size={self.size},overlap={self.overlap})"

    def chunk(self, document: Document) -> list[Chunk]:
        text = document.text
        pieces = pack_sentences(text, 0, len(text), size=self.size, overlap=self.overlap, heading_path=[])
        return make_chunks(document, text, pieces)
