"""Embedded backend: Qdrant's own engine in-process (`qdrant-edge-py`), persisted in a folder."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import qdrant_edge as qe
from aiagents.retrieval.index.backend import DENSE, SPARSE, Condition, EngineFusion, PointData, SearchRequest

__all__ = ["EdgeBackend"]

_HNSW_EF = 128  # search-time beam; raised from the default for near-duplicate data (DESIGN.md pitfalls)
_DENSE_PARAMS = qe.SearchParams(hnsw_ef=_HNSW_EF)


def _condition(c: Condition) -> qe.FieldCondition:
    if c.kind == "eq":
        return qe.FieldCondition(key=c.key, match=qe.MatchValue(c.value))
    if c.kind == "any":
        return qe.FieldCondition(key=c.key, match=qe.MatchAny(c.value))
    return qe.FieldCondition(key=c.key, range=qe.RangeFloat(**c.value))


def _filter(conditions: Sequence[Condition]) -> qe.Filter | None:
    return qe.Filter(must=[_condition(c) for c in conditions]) if conditions else None


def _nearest(r: SearchRequest) -> qe.Query:
    """The nearest-neighbour query of one request, on its named vector."""
    return qe.Query.Nearest(r.vector if r.using == DENSE else qe.SparseVector(*r.vector), using=r.using)


def _params(r: SearchRequest) -> qe.SearchParams | None:
    return _DENSE_PARAMS if r.using == DENSE else None


def _payload_selector(fields: Sequence[str] | None) -> Any:
    return True if fields is None else qe.PayloadSelector.Include(list(fields))


class EdgeBackend:
    """A `qdrant_edge.EdgeShard` in `folder/shard` with the manifest in `folder/manifest.json`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._shard_dir = folder / "shard"
        self._meta_path = folder / "manifest.json"
        self._shard: qe.EdgeShard | None = None
        if self.exists():
            self._shard = qe.EdgeShard.load(str(self._shard_dir))

    @property
    def shard(self) -> qe.EdgeShard:
        if self._shard is None:
            raise RuntimeError(f"index folder {self.folder} has no shard yet (create it first)")
        return self._shard

    def exists(self) -> bool:
        return self._meta_path.exists() and self._shard_dir.exists()

    def create(self, dim: int) -> None:
        config = qe.EdgeConfig(
            vectors={DENSE: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine)},
            sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
            payload_memory=qe.Memory.Cached,
        )
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._shard_dir.exists():  # a shard without a manifest is a creation that did not finish
            shutil.rmtree(self._shard_dir)
        self._shard = qe.EdgeShard.create(str(self._shard_dir), config)

    def read_meta(self) -> dict[str, Any] | None:
        return json.loads(self._meta_path.read_text()) if self._meta_path.exists() else None

    def write_meta(self, meta: dict[str, Any]) -> None:
        tmp = self._meta_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta, indent=2, sort_keys=True))
        os.replace(tmp, self._meta_path)

    def upsert(self, points: Sequence[PointData]) -> None:
        if not points:
            return
        self.shard.update(
            qe.UpdateOperation.upsert_points(
                [qe.Point(p.id, {DENSE: p.dense, SPARSE: qe.SparseVector(*p.sparse)}, p.payload) for p in points]
            )
        )

    def update_sparse(self, vectors: Mapping[str, tuple[list[int], list[float]]]) -> None:
        if vectors:
            self.shard.update(
                qe.UpdateOperation.update_vectors(
                    [qe.PointVectors(pid, {SPARSE: qe.SparseVector(*v)}) for pid, v in vectors.items()]
                )
            )

    def delete(self, point_ids: Sequence[str]) -> None:
        if point_ids:
            self.shard.update(qe.UpdateOperation.delete_points(list(point_ids)))

    def retrieve(self, point_ids: Sequence[str], fields: Sequence[str] | None = None) -> dict[str, dict]:
        if not point_ids:
            return {}
        records = self.shard.retrieve(list(point_ids), with_payload=_payload_selector(fields), with_vector=False)
        return {str(r.id): dict(r.payload or {}) for r in records}

    def scroll(
        self, fields: Sequence[str] | None = None, conditions: Sequence[Condition] = ()
    ) -> Iterator[tuple[str, dict]]:
        offset = None
        while True:
            records, offset = self.shard.scroll(
                qe.ScrollRequest(
                    offset=offset,
                    limit=1000,
                    filter=_filter(conditions),
                    with_payload=_payload_selector(fields),
                )
            )
            for r in records:
                yield str(r.id), dict(r.payload or {})
            if offset is None:
                return

    def count(self) -> int:
        return int(self.shard.count(qe.CountRequest(exact=True)))

    def _request(self, r: SearchRequest) -> qe.QueryRequest:
        return qe.QueryRequest(
            limit=r.limit, query=_nearest(r), filter=_filter(r.conditions), with_payload=False, params=_params(r)
        )

    def search(self, requests: Sequence[SearchRequest]) -> list[list[tuple[str, float]]]:
        if len(requests) == 1:
            results = [self.shard.query(self._request(requests[0]))]
        else:
            results = self.shard.query_batch(qe.QueryBatchRequest([self._request(r) for r in requests]))
        return [[(str(p.id), float(p.score)) for p in points] for points in results]

    def search_fused(
        self, requests: Sequence[SearchRequest], fusion: EngineFusion, *, limit: int, fields: Sequence[str]
    ) -> list[tuple[float, dict]]:
        prefetches = [
            qe.Prefetch(limit=r.limit, query=_nearest(r), params=_params(r), filter=_filter(r.conditions))
            for r in requests
        ]
        query = qe.Fusion.Rrf(k=fusion.engine_rrf_k) if fusion.method == "rrf" else qe.Fusion.Dbsf()
        points = self.shard.query(
            qe.QueryRequest(limit=limit, prefetches=prefetches, query=query, with_payload=_payload_selector(fields))
        )
        # The point ids are not read: the chunk id is in the payload (a UUID's str() costs 2 us a hit).
        return [(p.score, p.payload or {}) for p in points]

    def optimize(self) -> None:
        self.shard.optimize()

    def flush(self) -> None:
        self.shard.flush()

    def close(self) -> None:
        if self._shard is not None:
            self._shard.flush()
            self._shard.close()
            self._shard = None
