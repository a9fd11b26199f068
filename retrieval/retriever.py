"""`Retriever`: BM25, dense or hybrid search over a `HybridIndex`, traced with OpenInference spans."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
from aiagents.retrieval.embedders import Embedder
from aiagents.retrieval.errors import UnknownFusionError
from aiagents.retrieval.fusion import Normalization, dbsf, rrf, weighted_fusion
from aiagents.retrieval.index import EngineFusion, HybridIndex
from aiagents.retrieval.types import Chunk, Hit
from openinference.semconv.trace import (
    DocumentAttributes,
    EmbeddingAttributes,
    OpenInferenceSpanKindValues,
    SpanAttributes,
)
from opentelemetry.trace import Tracer

from aiagents.citations import citation_label
from aiagents.tracing import get_tracer

__all__ = ["Retriever", "Reranker", "FusionConfig", "Mode"]

Mode = Literal["bm25", "dense", "hybrid"]

_KIND = SpanAttributes.OPENINFERENCE_SPAN_KIND
_INPUT = SpanAttributes.INPUT_VALUE
_METADATA = SpanAttributes.METADATA
_RETRIEVAL_DOCUMENTS = SpanAttributes.RETRIEVAL_DOCUMENTS
_EMBEDDING_MODEL = SpanAttributes.EMBEDDING_MODEL_NAME
_EMBEDDINGS = SpanAttributes.EMBEDDING_EMBEDDINGS
_DOC_ID = DocumentAttributes.DOCUMENT_ID
_DOC_CONTENT = DocumentAttributes.DOCUMENT_CONTENT
_DOC_SCORE = DocumentAttributes.DOCUMENT_SCORE
_DOC_METADATA = DocumentAttributes.DOCUMENT_METADATA
_EMB_TEXT = EmbeddingAttributes.EMBEDDING_TEXT
_EMB_VECTOR = EmbeddingAttributes.EMBEDDING_VECTOR
_RETRIEVER = OpenInferenceSpanKindValues.RETRIEVER.value
_EMBEDDING = OpenInferenceSpanKindValues.EMBEDDING.value


@runtime_checkable
class Reranker(Protocol):
    """Re-orders the fused candidates (e.g. a cross-encoder); returns hits best first."""

    def rerank(self, query: str, hits: Sequence[Hit]) -> list[Hit]: ...


@dataclass(kw_only=True, frozen=True)
class FusionConfig:
    """How hybrid mode combines the BM25 and dense lists.

    The default, distribution-based score fusion of 100 candidates a list, runs inside the engine (one
    call, no per-candidate Python work: the hybrid query path's latency target). On SciFact with the
    int8 MiniLM it ties the former default, weighted z-score fusion, on the half of the queries settings
    are chosen on (nDCG@10 0.7195 against 0.7197, Porter stemming) and leads on the held-out half
    (0.7696 against 0.7630); RRF (k=60) gave 0.693 / 0.730 (Snowball stemming). bench/retrieval_tuning.py
    reproduces the grid; its two-fold cross-validation over 4,160 settings shows that finer tuning does not
    carry over.
    """

    method: Literal["weighted", "rrf", "dbsf"] = "dbsf"
    """'weighted': weighted sum of normalised scores; 'rrf': reciprocal rank fusion; 'dbsf':
    distribution-based score fusion. 'rrf' and 'dbsf' run inside the engine (one call, payloads of the
    final k only) unless the retriever explains or reranks."""
    dense_weight: float = 0.5
    """Weight of the dense list (the BM25 list gets 1 - dense_weight)."""
    normalization: Normalization = "zscore"
    """Score normalisation per list for 'weighted'."""
    rrf_k: int = 60
    """The k of RRF (always explicit: qdrant-client's local RRF defaults to 2)."""
    candidates: int = 100
    """How many hits each method contributes before fusion (at least k)."""


class Retriever:
    """Searches an index by BM25, dense vectors or both, with optional metadata filters and reranking."""

    def __init__(
        self,
        index: HybridIndex,
        embedder: Embedder,
        *,
        fusion: Literal["weighted", "rrf", "dbsf"] | FusionConfig | None = None,
        reranker: Reranker | None = None,
        explain: bool = False,
        trace_content_chars: int = 2000,
        tracer: Tracer | None = None,
    ) -> None:
        """`fusion` defaults to `FusionConfig()`. `explain`: every hybrid hit carries each method's score
        (`hit.scores`), at the cost of fusing in Python; otherwise an engine fusion gives the fused score
        only. `tracer` defaults to the framework's (`aiagents.tracing.get_tracer`); spans nest under the
        current span, e.g. a RAG chain's."""
        index.check_embedder(embedder.name, embedder.dim)
        self.index = index
        self.embedder = embedder
        if fusion is None:
            fusion = FusionConfig()
        self.fusion = fusion if isinstance(fusion, FusionConfig) else FusionConfig(method=fusion)
        if self.fusion.method not in ("weighted", "rrf", "dbsf"):
            raise UnknownFusionError(f"unknown fusion {self.fusion.method!r}: use 'dbsf', 'rrf' or 'weighted'")
        self.reranker = reranker
        self.explain = explain
        self.trace_content_chars = trace_content_chars
        self._tracer = tracer or get_tracer("aiagents.retrieval")
        self.last_embed_ms = 0.0
        """Milliseconds the last `search` spent embedding its query (0 for BM25)."""

    def embed_query(self, query: str) -> np.ndarray:
        """The query vector, inside an EMBEDDING span (model name and text)."""
        with self._tracer.start_as_current_span("embed_query") as span:
            if span.is_recording():
                span.set_attribute(_KIND, _EMBEDDING)
                span.set_attribute(_EMBEDDING_MODEL, self.embedder.name)
                span.set_attribute(f"{_EMBEDDINGS}.0.{_EMB_TEXT}", query)
            t0 = time.perf_counter()
            vector = self.embedder.embed_query(query)
            self.last_embed_ms += (time.perf_counter() - t0) * 1000
            return vector

    def search(
        self,
        query: str,
        k: int = 10,
        mode: Mode = "hybrid",
        filters: Mapping[str, Any] | None = None,
    ) -> list[Hit]:
        """The k best chunks for `query`; each hit carries the scores of every method that found it."""
        with self._tracer.start_as_current_span("retrieve") as span:
            recording = span.is_recording()  # no tracing set up: skip building the attributes
            if recording:
                span.set_attribute(_KIND, _RETRIEVER)
                span.set_attribute(_INPUT, query)
                span.set_attribute(
                    _METADATA,
                    json.dumps(
                        {"index": self.index.name, "mode": mode, "k": k, "filters": dict(filters or {})}
                        | ({"fusion": self.fusion.method} if mode == "hybrid" else {})
                    ),
                )
            hits = self._search(query, k, mode, filters)
            if not recording:
                return hits
            for i, h in enumerate(hits):
                prefix = f"{_RETRIEVAL_DOCUMENTS}.{i}"
                span.set_attribute(f"{prefix}.{_DOC_ID}", h.id)
                span.set_attribute(f"{prefix}.{_DOC_CONTENT}", h.text[: self.trace_content_chars])
                span.set_attribute(f"{prefix}.{_DOC_SCORE}", h.score)
                span.set_attribute(
                    f"{prefix}.{_DOC_METADATA}",
                    json.dumps(
                        {
                            "document_id": h.document_id,
                            "scores": h.scores,
                            **h.metadata,
                            "citation": citation_label(h.document_id or h.id, h.metadata, h.heading_path),
                            **({"span": h.span} if h.span else {}),
                        },
                        default=str,
                    ),  # fmt: skip
                )
            return hits

    def _search(self, query: str, k: int, mode: Mode, filters: Mapping[str, Any] | None) -> list[Hit]:
        self.last_embed_ms = 0.0
        if k <= 0:
            return []
        limit = max(k, self.fusion.candidates) if self.reranker or mode == "hybrid" else k
        if mode == "hybrid" and self.fusion.method != "weighted" and not (self.reranker or self.explain):
            return self._search_engine_fused(query, k, limit, filters)
        if mode == "bm25":
            ranked = self.index.search_bm25(query, limit=limit, filters=filters)
            per_method = {"bm25": dict(ranked)}
        elif mode == "dense":
            ranked = self.index.search_dense(self.embed_query(query), limit=limit, filters=filters)
            per_method = {"dense": dict(ranked)}
        elif mode == "hybrid":
            bm25, dense = self.index.search_both(query, self.embed_query(query), limit=limit, filters=filters)
            per_method = {"bm25": dict(bm25), "dense": dict(dense)}
            ranked = sorted(self._fuse(bm25, dense).items(), key=lambda kv: (-kv[1], kv[0]))
        else:
            raise ValueError(f"unknown mode {mode!r}: use 'bm25', 'dense' or 'hybrid'")
        keep = ranked[: limit if self.reranker else k]
        chunks = self.index.fetch([pid for pid, _ in keep])
        hits = []
        for pid, score in keep:
            chunk = chunks.get(pid)
            if chunk is None:  # deleted between search and fetch
                continue
            scores = {m: s[pid] for m, s in per_method.items() if pid in s}
            scores[mode] = score
            hits.append(_hit(chunk, score, scores))
        if self.reranker is not None:
            hits = list(self.reranker.rerank(query, hits))[:k]
        for rank, h in enumerate(hits, start=1):
            h.rank = rank
        return hits

    def _search_engine_fused(self, query: str, k: int, candidates: int, filters: Mapping[str, Any] | None) -> list[Hit]:
        """Hybrid search fused by the engine: one call, no per-candidate Python work."""
        found = self.index.search_fused(
            query,
            self.embed_query(query),
            fusion=EngineFusion(method=self.fusion.method, rrf_k=self.fusion.rrf_k),  # type: ignore[arg-type]
            k=k,
            candidates=candidates,
            filters=filters,
        )
        return [_hit(chunk, score, {"hybrid": score}, rank) for rank, (score, chunk) in enumerate(found, start=1)]

    def _fuse(self, bm25: list[tuple[str, float]], dense: list[tuple[str, float]]) -> dict[str, float]:
        f = self.fusion
        if f.method == "rrf":
            return rrf([[p for p, _ in bm25], [p for p, _ in dense]], k=f.rrf_k)
        if f.method == "dbsf":
            return dbsf([dict(bm25), dict(dense)])
        return weighted_fusion(
            [dict(bm25), dict(dense)], [1.0 - f.dense_weight, f.dense_weight], normalization=f.normalization
        )


def _hit(chunk: Chunk, score: float, scores: dict[str, float], rank: int = 0) -> Hit:
    return Hit(
        id=chunk.id,
        text=chunk.text,
        score=score,
        document_id=chunk.document_id,
        scores=scores,
        metadata=chunk.metadata,
        heading_path=list(chunk.heading_path),
        span=chunk.span,
        rank=rank,
    )
