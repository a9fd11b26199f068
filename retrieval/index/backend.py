"""The small storage contract both Qdrant backends implement, and backend-neutral filter conditions."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from aiagents.retrieval.errors import InvalidFilterError

__all__ = ["Backend", "Condition", "EngineFusion", "PointData", "SearchRequest", "parse_filters", "DENSE", "SPARSE"]

DENSE = "dense"
"""Name of the dense vector in the collection."""
SPARSE = "bm25"
"""Name of the sparse (BM25) vector in the collection."""

# Payload keys stored at the top level; any other filter key is looked up under `metadata.`.
_TOP_LEVEL = {"document_id", "chunk_id", "content_hash", "position", "heading_path"}


@dataclass(kw_only=True, frozen=True)
class Condition:
    """One payload condition, translated by each backend into its own filter type."""

    key: str
    """Payload path, e.g. `document_id` or `metadata.lang`."""
    kind: Literal["eq", "any", "range"]
    value: Any
    """A scalar for eq, a list for any, a dict of gte/gt/lte/lt for range."""


@dataclass(kw_only=True)
class PointData:
    """A point as written to the backend."""

    id: str
    """UUID string (Qdrant point ids must be integers or UUIDs)."""
    dense: list[float]
    sparse: tuple[list[int], list[float]]
    payload: dict[str, Any]


@dataclass(kw_only=True)
class SearchRequest:
    """One nearest-neighbour search on one named vector."""

    using: Literal["dense", "bm25"]
    vector: list[float] | tuple[list[int], list[float]]
    limit: int
    conditions: Sequence[Condition] = ()


@dataclass(kw_only=True, frozen=True)
class EngineFusion:
    """A fusion the engine computes over several searches (Qdrant's query API: prefetches + fusion)."""

    method: Literal["rrf", "dbsf"]
    rrf_k: int = 60
    """The k of RRF in the usual 1-based-rank formula `1 / (k + rank)` (explicit: qdrant-client's local
    RRF defaults to 2). Qdrant ranks from 0, so backends send it `engine_rrf_k`."""

    @property
    def engine_rrf_k(self) -> int:
        """Qdrant's k for the same scores: it computes `1 / (k + position)` with positions from 0."""
        return self.rrf_k + 1


class Backend(Protocol):
    """Storage of points with a dense and a sparse named vector, plus a JSON manifest."""

    def exists(self) -> bool: ...
    def create(self, dim: int) -> None: ...
    def read_meta(self) -> dict[str, Any] | None: ...
    def write_meta(self, meta: dict[str, Any]) -> None: ...
    def upsert(self, points: Sequence[PointData]) -> None: ...
    def update_sparse(self, vectors: Mapping[str, tuple[list[int], list[float]]]) -> None: ...
    def delete(self, point_ids: Sequence[str]) -> None: ...
    def retrieve(self, point_ids: Sequence[str], fields: Sequence[str] | None = None) -> dict[str, dict]: ...
    def scroll(
        self, fields: Sequence[str] | None = None, conditions: Sequence[Condition] = ()
    ) -> Iterator[tuple[str, dict]]: ...
    def count(self) -> int: ...
    def search(self, requests: Sequence[SearchRequest]) -> list[list[tuple[str, float]]]: ...
    def search_fused(
        self, requests: Sequence[SearchRequest], fusion: EngineFusion, *, limit: int, fields: Sequence[str]
    ) -> list[tuple[float, dict]]:
        """The `limit` best points of the fused requests, best first: (fused score, payload `fields`)."""
        ...

    def optimize(self) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


_RANGE_OPS = ("gte", "gt", "lte", "lt")


def parse_filters(filters: Mapping[str, Any] | None) -> list[Condition]:
    """Metadata filters -> conditions (all must hold).

    `{"lang": "en"}` equality; `{"lang": ["en", "de"]}` any of; `{"year": {"gte": 2020}}` a range;
    keys are metadata fields unless they name a chunk field (`document_id`, `chunk_id`, ...) or start
    with `metadata.`.
    """
    conditions: list[Condition] = []
    for key, value in (filters or {}).items():
        path = key if key in _TOP_LEVEL or key.startswith("metadata.") else f"metadata.{key}"
        if isinstance(value, Mapping):
            unknown = set(value) - set(_RANGE_OPS)
            if unknown or not value:
                raise InvalidFilterError(
                    f"filter {key!r}: a dict value is a range and takes only {', '.join(_RANGE_OPS)}"
                    f" (got {sorted(value) or 'nothing'})"
                )
            conditions.append(Condition(key=path, kind="range", value={k: float(v) for k, v in value.items()}))
        elif isinstance(value, list | tuple | set | frozenset):
            items = list(value)
            if (
                not items
                or not all(isinstance(v, str) for v in items)
                and not all(isinstance(v, int) and not isinstance(v, bool) for v in items)
            ):
                raise InvalidFilterError(
                    f"filter {key!r}: an any-of list must be non-empty and all strings or all integers"
                )
            conditions.append(Condition(key=path, kind="any", value=items))
        elif isinstance(value, bool | int | str):
            conditions.append(Condition(key=path, kind="eq", value=value))
        elif isinstance(value, float):
            conditions.append(Condition(key=path, kind="range", value={"gte": value, "lte": value}))
        else:
            raise InvalidFilterError(
                f"filter {key!r}: cannot match a {type(value).__name__}; use a string, number, bool, "
                "a list (any of) or a range dict"
            )
    return conditions
