"""`HybridIndex`: chunks with a dense and a BM25 sparse vector in one Qdrant collection."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from aiagents.retrieval.bm25 import BM25Params, document_vector, query_vector
from aiagents.retrieval.errors import IndexMismatchError, IndexNotFoundError, UnknownBackendError
from aiagents.retrieval.index.backend import (
    DENSE,
    SPARSE,
    Backend,
    Condition,
    EngineFusion,
    PointData,
    SearchRequest,
    parse_filters,
)
from aiagents.retrieval.tokenizer import Tokenizer
from aiagents.retrieval.types import Chunk

from aiagents.settings import get_settings

__all__ = ["HybridIndex", "open_index", "point_id", "BACKENDS"]

FORMAT = 1
BACKENDS = ("edge", "qdrant", "memory")
_NAMESPACE = uuid.UUID("6f1d8c1e-3a0b-5c57-9d8e-8a4f2b7c9e10")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_PAYLOAD_FIELDS = ["chunk_id", "text", "document_id", "position", "heading_path", "metadata", "span", "content_hash"]


def point_id(chunk_id: str) -> str:
    """The Qdrant point id (a UUID) of a chunk id; the chunk id itself is kept in the payload."""
    return str(uuid.uuid5(_NAMESPACE, chunk_id))


def _chunk(payload: Mapping[str, Any]) -> Chunk:
    return Chunk(
        id=payload["chunk_id"],
        text=payload.get("text", ""),
        document_id=payload.get("document_id", ""),
        position=int(payload.get("position", 0)),
        heading_path=list(payload.get("heading_path") or []),
        metadata=dict(payload.get("metadata") or {}),
        span=list(payload["span"]) if payload.get("span") else None,
        content_hash=payload.get("content_hash", ""),
    )


class HybridIndex:
    """An index of chunks searchable by dense vector, by BM25, or both (see `Retriever`).

    Open one with `open_index`. Writes: `upsert`, `delete_documents`; what is indexed:
    `document_hashes` (document id -> the content hashes of its chunks), `count`, `get`.
    """

    def __init__(self, name: str, backend: Backend, backend_name: str, meta: dict[str, Any]) -> None:
        self.name = name
        self.backend = backend
        self.backend_name = backend_name
        self._meta = meta
        self.tokenizer = Tokenizer(language=meta["tokenizer"]["language"])
        self.bm25_params = BM25Params(k1=meta["bm25"]["k1"], b=meta["bm25"]["b"])

    # -- manifest -------------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return int(self._meta["dim"])

    @property
    def embedder_name(self) -> str | None:
        return self._meta.get("embedder")

    @property
    def manifest(self) -> dict[str, Any]:
        """A copy of the stored manifest (format, embedder, dim, BM25 statistics, info)."""
        return {k: (dict(v) if isinstance(v, dict) else v) for k, v in self._meta.items()}

    @property
    def info(self) -> dict[str, Any]:
        """Free-form data kept with the index (e.g. which corpus built it)."""
        return dict(self._meta.get("info", {}))

    def update_info(self, **values: Any) -> None:
        self._meta.setdefault("info", {}).update(values)
        self.backend.write_meta(self._meta)

    def check_embedder(self, name: str, dim: int) -> None:
        """Raise `IndexMismatchError` unless the index was built by an embedder of this name and size."""
        if dim != self.dim or (self.embedder_name is not None and name != self.embedder_name):
            raise IndexMismatchError(
                f"index {self.name!r} was built with embedder {self.embedder_name!r} (dim {self.dim}), "
                f"not {name!r} (dim {dim}); query it with the same embedder or rebuild it under another name"
            )

    @property
    def avgdl(self) -> float:
        stats = self._meta["bm25"]
        return stats["total_len"] / stats["docs"] if stats["docs"] else 0.0

    # -- writes ---------------------------------------------------------------------------------
    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Insert or replace chunks (by chunk id) with their dense vectors, one row per chunk."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(chunks):
            raise ValueError(f"upsert needs one vector per chunk: {len(chunks)} chunks, vectors {vectors.shape}")
        if vectors.shape[1] != self.dim:
            raise IndexMismatchError(
                f"index {self.name!r} stores {self.dim}-dimensional vectors, got {vectors.shape[1]}"
            )
        latest = {c.id: i for i, c in enumerate(chunks)}  # a repeated chunk id: the last one wins
        rows = sorted(latest.values())
        if not rows:
            return
        ids = [point_id(chunks[i].id) for i in rows]
        terms = [self.tokenizer(chunks[i].text) for i in rows]
        old = self.backend.retrieve(ids, fields=["bm25_len"])
        stats = self._meta["bm25"]
        stats["docs"] += len(rows) - len(old)
        stats["total_len"] += sum(len(t) for t in terms) - sum(int(p.get("bm25_len", 0)) for p in old.values())
        avgdl = self.avgdl
        points = []
        for pid, i, t in zip(ids, rows, terms, strict=True):
            c = chunks[i]
            points.append(
                PointData(
                    id=pid,
                    dense=vectors[i].tolist(),
                    sparse=document_vector(t, avgdl=avgdl, params=self.bm25_params),
                    payload={
                        "chunk_id": c.id,
                        "text": c.text,
                        "document_id": c.document_id,
                        "position": c.position,
                        "heading_path": list(c.heading_path),
                        "metadata": dict(c.metadata),
                        "span": list(c.span) if c.span else None,
                        "content_hash": c.content_hash,
                        "bm25_len": len(t),
                    },
                )
            )
        self.backend.upsert(points)
        self.backend.write_meta(self._meta)

    def delete_documents(self, document_ids: Iterable[str]) -> int:
        """Delete every chunk of these documents; returns the number of chunks deleted."""
        doc_ids = sorted(set(document_ids))
        if not doc_ids:
            return 0
        found = dict(self.backend.scroll(["bm25_len"], [Condition(key="document_id", kind="any", value=doc_ids)]))
        if not found:
            return 0
        self.backend.delete(list(found))
        stats = self._meta["bm25"]
        stats["docs"] -= len(found)
        stats["total_len"] -= sum(int(p.get("bm25_len", 0)) for p in found.values())
        self.backend.write_meta(self._meta)
        return len(found)

    def reweight_bm25(self) -> int:
        """Recompute the BM25 statistics and every stored sparse vector with the current mean length.

        Incremental writes weight each batch with the mean length at the time; run this after the
        corpus has changed a lot. Returns the number of points rewritten.
        """
        texts = {pid: p.get("text", "") for pid, p in self.backend.scroll(["text"])}
        terms = {pid: self.tokenizer(t) for pid, t in texts.items()}
        stats = self._meta["bm25"]
        stats["docs"] = len(terms)
        stats["total_len"] = sum(len(t) for t in terms.values())
        avgdl = self.avgdl
        pids = list(terms)
        for start in range(0, len(pids), 1000):
            part = pids[start : start + 1000]
            self.backend.update_sparse(
                {p: document_vector(terms[p], avgdl=avgdl, params=self.bm25_params) for p in part}
            )
        self.backend.write_meta(self._meta)
        return len(pids)

    # -- reads ----------------------------------------------------------------------------------
    def get(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        """The stored chunks with these ids, in the given order; unknown ids are skipped."""
        found = self.fetch([point_id(c) for c in chunk_ids])
        return [found[p] for p in (point_id(c) for c in chunk_ids) if p in found]

    def fetch(self, point_ids: Sequence[str]) -> dict[str, Chunk]:
        """Point id -> stored chunk (used by the retriever after fusion)."""
        return {pid: _chunk(p) for pid, p in self.backend.retrieve(point_ids, fields=_PAYLOAD_FIELDS).items()}

    def document_hashes(self) -> dict[str, set[str]]:
        """Document id -> the content hashes of its indexed chunks.

        Ingestion compares this with the chunks it would write: equal sets mean the document is
        unchanged; an id missing from its source means the document was removed.
        """
        out: dict[str, set[str]] = {}
        for _, p in self.backend.scroll(["document_id", "content_hash"]):
            out.setdefault(p.get("document_id", ""), set()).add(p.get("content_hash", ""))
        return out

    def count(self) -> int:
        """Number of chunks in the index."""
        return self.backend.count()

    # -- search ---------------------------------------------------------------------------------
    def bm25_request(self, query: str, *, limit: int, filters: Mapping[str, Any] | None = None) -> SearchRequest:
        return SearchRequest(
            using=SPARSE,
            vector=query_vector(self.tokenizer(query)),
            limit=limit,
            conditions=parse_filters(filters),
        )

    def dense_request(
        self, vector: np.ndarray, *, limit: int, filters: Mapping[str, Any] | None = None
    ) -> SearchRequest:
        return SearchRequest(
            using=DENSE,
            vector=np.asarray(vector, dtype=np.float32).tolist(),
            limit=limit,
            conditions=parse_filters(filters),
        )

    def search_bm25(
        self, query: str, *, limit: int = 10, filters: Mapping[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """(point id, BM25 score) best first; documents sharing no term with the query are absent."""
        request = self.bm25_request(query, limit=limit, filters=filters)
        return self.backend.search([request])[0] if request.vector[0] else []

    def search_dense(
        self, vector: np.ndarray, *, limit: int = 10, filters: Mapping[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """(point id, cosine similarity) best first."""
        return self.backend.search([self.dense_request(vector, limit=limit, filters=filters)])[0]

    def search_both(
        self, query: str, vector: np.ndarray, *, limit: int, filters: Mapping[str, Any] | None = None
    ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """BM25 and dense candidates in one batched backend call: (bm25, dense)."""
        bm25 = self.bm25_request(query, limit=limit, filters=filters)
        dense = self.dense_request(vector, limit=limit, filters=filters)
        if not bm25.vector[0]:
            return [], self.backend.search([dense])[0]
        b, d = self.backend.search([bm25, dense])
        return b, d

    def search_fused(
        self,
        query: str,
        vector: np.ndarray,
        *,
        fusion: EngineFusion,
        k: int,
        candidates: int,
        filters: Mapping[str, Any] | None = None,
    ) -> list[tuple[float, Chunk]]:
        """The k best chunks of BM25 and dense search fused by the engine, in one call: (fused score, chunk).

        Each method contributes `candidates` hits; only the final k payloads are read. A query with no
        BM25 term (all stop words) is fused from its dense hits alone.
        """
        requests = [
            r
            for r in (
                self.bm25_request(query, limit=candidates, filters=filters),
                self.dense_request(vector, limit=candidates, filters=filters),
            )
            if r.using == DENSE or r.vector[0]
        ]
        found = self.backend.search_fused(requests, fusion, limit=k, fields=_PAYLOAD_FIELDS)
        return [(score, _chunk(payload)) for score, payload in found]

    # -- lifecycle ------------------------------------------------------------------------------
    def optimize(self) -> None:
        """Build the search indexes (HNSW) now instead of on demand; call after a bulk load."""
        self.backend.optimize()

    def flush(self) -> None:
        self.backend.flush()

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> HybridIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _resolve_backend(name: str, backend: str | None, location: str | None) -> tuple[Backend, str]:
    url = location or os.environ.get("AIAGENTS_QDRANT_URL")
    kind = backend or ("qdrant" if url else "edge")
    if kind == "edge":
        from aiagents.retrieval.index.edge import EdgeBackend

        return EdgeBackend(get_settings().indexes_dir / name), kind
    if kind in ("qdrant", "memory"):
        from aiagents.retrieval.index.qdrant import QdrantBackend
        from qdrant_client import QdrantClient

        if kind == "memory" or url == ":memory:":
            client = QdrantClient(":memory:")
        elif url and url.startswith(("http://", "https://")):
            client = QdrantClient(url=url, api_key=os.environ.get("AIAGENTS_QDRANT_API_KEY") or None)
        else:  # qdrant-client's local mode on a folder
            client = QdrantClient(path=str(url or get_settings().indexes_dir / f"{name}.qdrant-local"))
        return QdrantBackend(client, name), kind
    raise UnknownBackendError(f"unknown index backend {kind!r}: use one of {', '.join(BACKENDS)}")


def open_index(
    name: str,
    *,
    dim: int | None = None,
    backend: str | None = None,
    embedder: str | None = None,
    bm25: BM25Params | None = None,
    location: str | None = None,
) -> HybridIndex:
    """Open the index `name`, creating it when `dim` is given and it does not exist.

    backend: "edge" (embedded qdrant-edge-py under `settings.indexes_dir / name`, the default),
    "qdrant" (qdrant-client: a server at `location` or `AIAGENTS_QDRANT_URL`, else its local mode on a
    folder) or "memory" (qdrant-client in memory, for tests). `embedder` and `dim` are recorded on
    creation and checked on reopening (`IndexMismatchError`).
    """
    if not _NAME_RE.match(name):
        raise ValueError(f"index name {name!r}: use letters, digits, '_', '.', '-' (up to 128 characters)")
    store, kind = _resolve_backend(name, backend, location)
    meta = store.read_meta() if store.exists() else None
    if meta is None:
        if dim is None:
            store.close()
            raise IndexNotFoundError(
                f"no index named {name!r} ({kind} backend); build it first (e.g. `aiagents ingest SOURCE "
                f"--index {name}`) or pass dim= to create an empty one"
            )
        params = bm25 or BM25Params()
        store.create(dim)
        meta = {
            "format": FORMAT,
            "name": name,
            "backend": kind,
            "embedder": embedder,
            "dim": dim,
            "tokenizer": {"language": Tokenizer().language, "stopwords": "bm25s-en"},
            "bm25": {"k1": params.k1, "b": params.b, "docs": 0, "total_len": 0},
            "info": {},
        }
        store.write_meta(meta)
    index = HybridIndex(name, store, kind, meta)
    if dim is not None and dim != index.dim or embedder is not None and index.embedder_name not in (None, embedder):
        store.close()
        raise IndexMismatchError(
            f"index {name!r} was built with embedder {index.embedder_name!r} (dim {index.dim}), "
            f"not {embedder!r} (dim {dim}); use the same embedder or another index name"
        )
    return index
