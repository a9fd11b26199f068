"""BM25 tokeniser: lower-casing, word tokens, English stop words, Porter stemming; hashed term ids."""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

__all__ = ["Tokenizer", "term_id", "term_counts"]

# bm25s' (and scikit-learn's) token pattern: runs of two or more word characters.
_TOKEN_RE = re.compile(r"(?u)\b\w\w+\b")


@dataclass(kw_only=True)
class Tokenizer:
    """Turns text into BM25 terms. The same instance must tokenise documents and queries."""

    language: str = "porter"
    """PyStemmer algorithm: "porter" (the default: on SciFact it beat Snowball's "english" on the half of
    the queries it was chosen on, 0.7195 against 0.7164 hybrid nDCG@10, and held on the other half,
    0.7696 against 0.7654; bench/retrieval_tuning.py), a Snowball language such as "english" or
    "german", or "" for no stemming. An index keeps the one it was built with."""
    stopwords: frozenset[str] = field(default_factory=lambda: frozenset(STOPWORDS_EN))
    """Lower-case words dropped before stemming (bm25s' English list by default)."""

    def __post_init__(self) -> None:
        self._stemmer = Stemmer.Stemmer(self.language) if self.language else None

    def __call__(self, text: str) -> list[str]:
        """The terms of `text`, in order, duplicates kept (BM25 counts them)."""
        words = [w for w in _TOKEN_RE.findall(text.lower()) if w not in self.stopwords]
        return self._stemmer.stemWords(words) if self._stemmer is not None else words

    def many(self, texts: Iterable[str]) -> list[list[str]]:
        return [self(t) for t in texts]


def term_id(term: str) -> int:
    """A stable unsigned 32-bit id for a term (CRC-32): Qdrant's sparse indices are u32.

    Hashing instead of a vocabulary keeps the index append-only and the query side stateless; at
    ~30k terms the expected number of colliding pairs is about 0.1.
    """
    return zlib.crc32(term.encode("utf-8"))


def term_counts(terms: Sequence[str]) -> dict[int, int]:
    """Term id -> occurrences (colliding terms add up, as they would in the index)."""
    counts: Counter[int] = Counter()
    for t in terms:
        counts[term_id(t)] += 1
    return dict(counts)
