"""Extractive answering: pick the source sentences that best overlap a question (offline baseline)."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Source", "ExtractiveAnswer", "answer_extractively", "parse_sources"]

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "the",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "my",
        "me",
        "we",
        "our",
    ]
)
_SOURCE_LINE = re.compile(r"^\s*\[([^\]\s]+)\]\s*(.+)$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(kw_only=True)
class Source:
    """A passage the answer may quote."""

    id: str
    text: str


@dataclass(kw_only=True)
class ExtractiveAnswer:
    """The chosen sentences and where they came from."""

    text: str
    references: list[str]
    found: bool
    confidence: float


def _terms(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


def parse_sources(text: str) -> list[Source]:
    """Sources written one per line as `[id] text` (the convention of the shipped RAG prompts)."""
    return [Source(id=m.group(1), text=m.group(2)) for line in text.splitlines() if (m := _SOURCE_LINE.match(line))]


def _sentences(text: str) -> list[str]:
    """Prose sentences of a passage: Markdown headings dropped, emphasis removed, wrapped lines joined."""
    paragraphs: list[list[str]] = [[]]
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            paragraphs.append([])
            continue
        paragraphs[-1].append(re.sub(r"(\*\*|__|`)", "", line.lstrip("-*> ").strip()))
    sentences = []
    for paragraph in paragraphs:
        joined = " ".join(paragraph).strip()
        sentences += [s.strip() for s in _SENTENCE_END.split(joined) if s.strip()]
    return sentences


def answer_extractively(question: str, sources: list[Source], *, max_sentences: int = 2) -> ExtractiveAnswer:
    """Answer with the best-overlapping sentences of `sources`, citing their ids.

    A further sentence is added only when it scores at least half as well as the best one, so an answer
    does not wander into passages about something else.
    """
    wanted = {_stem(t) for t in _terms(question)}
    scored: list[tuple[float, int, str, str]] = []
    for order, source in enumerate(sources):
        for sentence in _sentences(source.text):
            terms = {_stem(t) for t in _terms(sentence)}
            if not terms:
                continue
            overlap = len(wanted & terms)
            score = overlap / (len(wanted) or 1)
            if len(terms) < 4:  # a fragment says little: prefer full sentences
                score *= 0.3
            scored.append((score, -order, sentence, source.id))
    scored.sort(key=lambda s: (s[0], s[1]), reverse=True)
    best = scored[0][0] if scored else 0.0
    chosen = [s for s in scored[:max_sentences] if s[0] > 0 and s[0] >= best / 2]
    if not chosen:
        return ExtractiveAnswer(
            text="I could not find an answer in the available sources.", references=[], found=False, confidence=0.0
        )
    references = list(dict.fromkeys(s[3] for s in chosen))
    text = " ".join(f"{s[2]} [{s[3]}]" for s in chosen)
    return ExtractiveAnswer(text=text, references=references, found=True, confidence=round(min(chosen[0][0], 1.0), 3))
