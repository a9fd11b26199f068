"""Server backend: `qdrant-client` against a Qdrant server or cluster by URL (or its local mode).

The manifest lives in the collection's metadata, so every client of a shared server sees the same
embedder and BM25 statistics.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from aiagents.retrieval.index.backend import DENSE, SPARSE, Condition, EngineFusion, PointData, SearchRequest
from qdrant_client import QdrantClient, models

__all__ = ["QdrantBackend"]

_META_KEY = "aiagents_manifest"


def _condition(c: Condition) -> models.FieldCondition:
    if c.kind == "eq":
        return models.FieldCondition(key=c.key, match=models.MatchValue(value=c.value))
    if c.kind == "any":
        return models.FieldCondition(key=c.key, match=models.MatchAny(any=c.value))
    return models.FieldCondition(key=c.key, range=models.Range(**c.value))


def _filter(conditions: Sequence[Condition]) -> models.Filter | None:
    return models.Filter(must=[_condition(c) for c in conditions]) if conditions else None


def _selector(fields: Sequence[str] | None) -> Any:
    return True if fields is None else models.PayloadSelectorInclude(include=list(fields))


def _query_vector(r: SearchRequest) -> Any:
    return r.vector if r.using == DENSE else models.SparseVector(indices=r.vector[0], values=r.vector[1])


class QdrantBackend:
    """One collection named after the index, reached through a `QdrantClient`."""

    def __init__(self, client: QdrantClient, collection: str) -> None:
        self.client = client
        self.collection = collection

    def exists(self) -> bool:
        return bool(self.client.collection_exists(self.collection))

    def create(self, dim: int) -> None:
        self.client.create_collection(
            self.collection,
            vectors_config={DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE)},
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )

    def read_meta(self) -> dict[str, Any] | None:
        if not self.exists():
            return None
        metadata = self.client.get_collection(self.collection).config.metadata or {}
        return metadata.get(_META_KEY)

    def write_meta(self, meta: dict[str, Any]) -> None:
        self.client.update_collection(self.collection, metadata={_META_KEY: meta})

    def upsert(self, points: Sequence[PointData]) -> None:
        if not points:
            return
        self.client.upsert(
            self.collection,
            points=[
                models.PointStruct(
                    id=p.id,
                    vector={
                        DENSE: p.dense,
                        SPARSE: models.SparseVector(indices=p.sparse[0], values=p.sparse[1]),
                    },
                    payload=p.payload,
                )
                for p in points
            ],
            wait=True,
        )

    def update_sparse(self, vectors: Mapping[str, tuple[list[int], list[float]]]) -> None:
        if vectors:
            self.client.update_vectors(
                self.collection,
                points=[
                    models.PointVectors(id=pid, vector={SPARSE: models.SparseVector(indices=i, values=v)})
                    for pid, (i, v) in vectors.items()
                ],
                wait=True,
            )

    def delete(self, point_ids: Sequence[str]) -> None:
        if point_ids:
            self.client.delete(self.collection, points_selector=models.PointIdsList(points=list(point_ids)), wait=True)

    def retrieve(self, point_ids: Sequence[str], fields: Sequence[str] | None = None) -> dict[str, dict]:
        if not point_ids:
            return {}
        records = self.client.retrieve(
            self.collection, ids=list(point_ids), with_payload=_selector(fields), with_vectors=False
        )
        return {str(r.id): dict(r.payload or {}) for r in records}

    def scroll(
        self, fields: Sequence[str] | None = None, conditions: Sequence[Condition] = ()
    ) -> Iterator[tuple[str, dict]]:
        offset = None
        while True:
            records, offset = self.client.scroll(
                self.collection,
                scroll_filter=_filter(conditions),
                limit=1000,
                offset=offset,
                with_payload=_selector(fields),
                with_vectors=False,
            )
            for r in records:
                yield str(r.id), dict(r.payload or {})
            if offset is None:
                return

    def count(self) -> int:
        return int(self.client.count(self.collection, exact=True).count)

    def search(self, requests: Sequence[SearchRequest]) -> list[list[tuple[str, float]]]:
        batch = [
            models.QueryRequest(
                query=_query_vector(r), using=r.using, limit=r.limit, filter=_filter(r.conditions), with_payload=False
            )
            for r in requests
        ]
        responses = self.client.query_batch_points(self.collection, requests=batch)
        return [[(str(p.id), float(p.score)) for p in resp.points] for resp in responses]

    def search_fused(
        self, requests: Sequence[SearchRequest], fusion: EngineFusion, *, limit: int, fields: Sequence[str]
    ) -> list[tuple[float, dict]]:
        prefetch = [
            models.Prefetch(query=_query_vector(r), using=r.using, limit=r.limit, filter=_filter(r.conditions))
            for r in requests
        ]
        query: Any = (
            models.RrfQuery(rrf=models.Rrf(k=fusion.engine_rrf_k))
            if fusion.method == "rrf"
            else models.FusionQuery(fusion=models.Fusion.DBSF)
        )
        response = self.client.query_points(
            self.collection, prefetch=prefetch, query=query, limit=limit, with_payload=_selector(fields)
        )
        return [(float(p.score), dict(p.payload or {})) for p in response.points]

    def optimize(self) -> None:
        """The server optimises on its own."""

    def flush(self) -> None:
        """Writes are acknowledged with `wait=True`; nothing to flush client-side."""

    def close(self) -> None:
        self.client.close()
