"""BM25 as sparse vectors: document-side term weights, IDF applied at query time.

How BM25 maps onto Qdrant: a document's sparse vector holds, per term, the saturated and
length-normalised term frequency `tf*(k1+1) / (tf + k1*(1-b+b*dl/avgdl))`; the query's sparse vector
holds the query term counts; the collection's sparse vector has Qdrant's IDF modifier, so Qdrant
multiplies each matched term by `ln(1 + (N-n+0.5)/(n+0.5))` (the Lucene IDF) computed from the live
collection. The dot product is then exactly BM25 (Lucene IDF variant). Why this split: the IDF of every
term changes with each added or removed document, so keeping it out of the stored vectors makes
incremental ingestion exact for IDF without rewriting old points; only `avgdl` is frozen at write time
(the running mean when the batch was written), which `HybridIndex.reweight_bm25()` can refresh.

`SparseBM25` is the in-memory fast path (scipy sparse matrix, same formula), and `ReferenceBM25` is
rank-bm25's `BM25Okapi` with the Lucene IDF: the tests check that the three agree score for score.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from aiagents.retrieval.tokenizer import term_counts
from rank_bm25 import BM25Okapi
from scipy import sparse

__all__ = ["BM25Params", "idf", "document_vector", "query_vector", "SparseBM25", "ReferenceBM25"]


@dataclass(kw_only=True, frozen=True)
class BM25Params:
    """BM25 constants."""

    k1: float = 1.2
    """Term-frequency saturation."""
    b: float = 0.75
    """Length normalisation strength (0 = none, 1 = full)."""


def idf(df: int | np.ndarray, n: int) -> float | np.ndarray:
    """Lucene / Qdrant IDF: `ln(1 + (n - df + 0.5) / (df + 0.5))`, always positive."""
    return (
        np.log1p((n - df + 0.5) / (df + 0.5)) if isinstance(df, np.ndarray) else math.log1p((n - df + 0.5) / (df + 0.5))
    )


def document_vector(
    terms: Sequence[str], *, avgdl: float, params: BM25Params = BM25Params()
) -> tuple[list[int], list[float]]:
    """Sparse (indices, values) of a document: BM25 term weights without IDF."""
    dl = len(terms)
    norm = params.k1 * (1.0 - params.b + params.b * dl / avgdl) if avgdl > 0 else params.k1
    counts = term_counts(terms)
    indices = sorted(counts)
    return indices, [counts[i] * (params.k1 + 1.0) / (counts[i] + norm) for i in indices]


def query_vector(terms: Sequence[str]) -> tuple[list[int], list[float]]:
    """Sparse (indices, values) of a query: term counts (a repeated query term counts twice)."""
    counts = term_counts(terms)
    indices = sorted(counts)
    return indices, [float(counts[i]) for i in indices]


class SparseBM25:
    """In-memory BM25 over a CSR matrix of document weights, with the same formula as the index."""

    def __init__(self, corpus_terms: Sequence[Sequence[str]], params: BM25Params = BM25Params()) -> None:
        self.params = params
        self.n = len(corpus_terms)
        self.avgdl = sum(len(t) for t in corpus_terms) / max(self.n, 1)
        self._vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[float] = []
        lengths = np.empty(self.n, dtype=np.float32)
        for r, terms in enumerate(corpus_terms):
            lengths[r] = len(terms)
            for term, tf in Counter(terms).items():
                rows.append(r)
                cols.append(self._vocab.setdefault(term, len(self._vocab)))
                tfs.append(tf)
        tf_arr = np.asarray(tfs, dtype=np.float32)
        norm = params.k1 * (1.0 - params.b + params.b * lengths[rows] / self.avgdl)
        weights = tf_arr * (params.k1 + 1.0) / (tf_arr + norm)
        df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=len(self._vocab))
        idfs = idf(df, self.n).astype(np.float32)
        # Term-major (CSC-like) layout: a query touches only its terms' columns.
        self._matrix = sparse.csc_matrix(
            (weights * idfs[cols], (rows, cols)), shape=(self.n, len(self._vocab)), dtype=np.float32
        )

    def scores(self, query_terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the query."""
        q = Counter(t for t in query_terms if t in self._vocab)
        if not q:
            return np.zeros(self.n, dtype=np.float32)
        cols = [self._vocab[t] for t in q]
        weights = np.asarray(list(q.values()), dtype=np.float32)
        return np.asarray(self._matrix[:, cols] @ weights).ravel()

    def top_k(self, query_terms: Sequence[str], k: int = 10) -> list[tuple[int, float]]:
        """(document row, score) of the k best documents with a positive score, best first."""
        s = self.scores(query_terms)
        k = min(k, self.n)
        idx = np.argpartition(-s, k - 1)[:k] if k < self.n else np.arange(self.n)
        idx = idx[np.argsort(-s[idx], kind="stable")]
        return [(int(i), float(s[i])) for i in idx if s[i] > 0]


class ReferenceBM25(BM25Okapi):
    """rank-bm25's Okapi BM25 with the Lucene IDF: the slow, obviously-correct reference."""

    def __init__(self, corpus_terms: Sequence[Sequence[str]], params: BM25Params = BM25Params()) -> None:
        super().__init__([list(t) for t in corpus_terms], k1=params.k1, b=params.b)

    def _calc_idf(self, nd: dict[str, int]) -> None:  # rank-bm25 hook
        self.idf = {word: float(idf(freq, self.corpus_size)) for word, freq in nd.items()}
