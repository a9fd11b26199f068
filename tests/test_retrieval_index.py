"""One contract for every index backend: embedded qdrant-edge, qdrant-client local (memory and folder),
and a Qdrant server when AIAGENTS_QDRANT_URL is set."""

import contextlib
import os
import uuid

import numpy as np
import pytest
from aiagents.retrieval.errors import IndexMismatchError, IndexNotFoundError, InvalidFilterError
from aiagents.retrieval.index import open_index, parse_filters
from aiagents.retrieval.types import Chunk

BACKENDS = [
    pytest.param(("edge", None), id="edge"),
    pytest.param(("memory", None), id="qdrant-memory"),
    pytest.param(("qdrant", "folder"), id="qdrant-local-folder"),
    pytest.param(
        ("qdrant", os.environ.get("AIAGENTS_QDRANT_URL")),
        id="qdrant-server",
        marks=pytest.mark.skipif(
            not os.environ.get("AIAGENTS_QDRANT_URL"), reason="AIAGENTS_QDRANT_URL not set (no Qdrant server)"
        ),
    ),
]


def _vec(*xs: float) -> np.ndarray:
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def _chunks() -> tuple[list[Chunk], np.ndarray]:
    chunks = [
        Chunk(
            id="refunds#0",
            text="Refunds are paid within 14 days.",
            document_id="refunds",
            position=0,
            heading_path=["Refunds"],
            metadata={"lang": "en", "year": 2023, "team": "billing"},
            content_hash="h-r0",
        ),
        Chunk(
            id="refunds#1",
            text="Refunds for damaged items are paid at once.",
            document_id="refunds",
            position=1,
            heading_path=["Refunds", "Damaged"],
            metadata={"lang": "en", "year": 2023},
            content_hash="h-r1",
        ),
        Chunk(
            id="shipping#0",
            text="Shipping takes 3 to 5 working days.",
            document_id="shipping",
            metadata={"lang": "en", "year": 2021},
            content_hash="h-s0",
        ),
        Chunk(
            id="konto#0",
            text="Konto löschen in den Einstellungen.",
            document_id="konto",
            metadata={"lang": "de", "year": 2024},
            content_hash="h-k0",
        ),
    ]
    vectors = np.stack([_vec(1, 0, 0), _vec(0.9, 0.1, 0), _vec(0, 1, 0), _vec(0, 0, 1)])
    return chunks, vectors


@pytest.fixture(params=BACKENDS)
def make_index(request: pytest.FixtureRequest, tmp_path):  # noqa: ANN201
    backend, location = request.param
    if location == "folder":
        location = str(tmp_path / "qdrant-local")
    name = f"contract-{uuid.uuid4().hex[:8]}"
    opened = []

    def make(**kwargs):  # noqa: ANN003, ANN202
        idx = open_index(name, backend=backend, location=location, **kwargs)
        opened.append(idx)
        return idx

    yield make
    for idx in opened:
        with contextlib.suppress(Exception):  # some tests close it themselves
            idx.close()


def test_upsert_get_count_and_hashes(make_index) -> None:  # noqa: ANN001
    index = make_index(dim=3, embedder="test-embedder")
    chunks, vectors = _chunks()
    index.upsert(chunks, vectors)
    assert index.count() == 4
    got = index.get(["shipping#0", "missing", "refunds#1"])
    assert [c.id for c in got] == ["shipping#0", "refunds#1"]
    assert got[1].heading_path == ["Refunds", "Damaged"]
    assert got[1].position == 1
    assert got[1].metadata == {"lang": "en", "year": 2023}
    assert got[1].text == chunks[1].text
    assert index.document_hashes() == {
        "refunds": {"h-r0", "h-r1"},
        "shipping": {"h-s0"},
        "konto": {"h-k0"},
    }
    assert index.manifest["bm25"]["docs"] == 4


def test_upsert_replaces_by_chunk_id_and_keeps_stats(make_index) -> None:  # noqa: ANN001
    index = make_index(dim=3)
    chunks, vectors = _chunks()
    index.upsert(chunks, vectors)
    total = index.manifest["bm25"]["total_len"]
    changed = Chunk(id="shipping#0", text="Shipping is free.", document_id="shipping", content_hash="h-s1")
    index.upsert([changed], vectors[2:3])
    assert index.count() == 4
    assert index.get(["shipping#0"])[0].text == "Shipping is free."
    assert index.document_hashes()["shipping"] == {"h-s1"}
    # "Shipping takes 3 to 5 working days" -> shipping take work day (4); "Shipping is free" -> shipping free (2)
    assert index.manifest["bm25"]["total_len"] == total - 4 + 2
    assert index.manifest["bm25"]["docs"] == 4


def test_delete_documents(make_index) -> None:  # noqa: ANN001
    index = make_index(dim=3)
    chunks, vectors = _chunks()
    index.upsert(chunks, vectors)
    assert index.delete_documents(["refunds", "nope"]) == 2
    assert index.count() == 2
    assert set(index.document_hashes()) == {"shipping", "konto"}
    assert index.delete_documents(["refunds"]) == 0
    assert index.manifest["bm25"]["docs"] == 2
    assert [pid for pid, _ in index.search_bm25("refunds paid")] == []


def test_dense_and_bm25_search_with_filters(make_index) -> None:  # noqa: ANN001
    index = make_index(dim=3)
    chunks, vectors = _chunks()
    index.upsert(chunks, vectors)
    top = index.fetch([pid for pid, _ in index.search_dense(_vec(1, 0.05, 0), limit=2)])
    assert {c.id for c in top.values()} == {"refunds#0", "refunds#1"}

    def ids(results):  # noqa: ANN001, ANN202
        return [index.fetch([pid])[pid].id for pid, _ in results]

    assert ids(index.search_dense(_vec(1, 0, 0), limit=4, filters={"lang": "de"})) == ["konto#0"]
    assert set(ids(index.search_dense(_vec(1, 0, 0), limit=4, filters={"lang": ["de", "en"]}))) == {
        c.id for c in chunks
    }
    assert ids(index.search_dense(_vec(1, 0, 0), limit=4, filters={"year": {"lt": 2022}})) == ["shipping#0"]
    assert set(ids(index.search_dense(_vec(1, 0, 0), limit=4, filters={"year": 2023}))) == {
        "refunds#0",
        "refunds#1",
    }
    assert ids(index.search_dense(_vec(1, 0, 0), limit=4, filters={"document_id": "shipping"})) == ["shipping#0"]
    assert ids(index.search_bm25("refunds paid", limit=4, filters={"team": "billing"})) == ["refunds#0"]
    bm25, dense = index.search_both("shipping days", _vec(0, 1, 0), limit=2)
    assert ids(bm25)[0] == "shipping#0"
    assert ids(dense)[0] == "shipping#0"


def test_reopen_checks_embedder_and_persists(make_index) -> None:  # noqa: ANN001
    index = make_index(dim=3, embedder="emb-a")
    chunks, vectors = _chunks()
    index.upsert(chunks, vectors)
    index.update_info(corpus="x")
    if index.backend_name == "memory":  # nothing persists in memory
        return
    index.close()
    again = make_index()
    assert again.count() == 4
    assert again.info == {"corpus": "x"}
    assert again.embedder_name == "emb-a"
    again.close()
    with pytest.raises(IndexMismatchError, match="emb-a"):
        make_index(dim=3, embedder="emb-b")
    with pytest.raises(IndexMismatchError):
        make_index(dim=5)


def test_wrong_vector_size_and_missing_index(make_index) -> None:  # noqa: ANN001
    index = make_index(dim=3)
    chunks, _ = _chunks()
    with pytest.raises(IndexMismatchError, match="3-dimensional"):
        index.upsert(chunks[:1], np.ones((1, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="one vector per chunk"):
        index.upsert(chunks[:2], np.ones((1, 3), dtype=np.float32))


def test_missing_index_says_how_to_build_it() -> None:
    with pytest.raises(IndexNotFoundError, match="aiagents ingest"):
        open_index("never-built")


def test_reweight_bm25_recomputes_from_payloads(make_index) -> None:  # noqa: ANN001
    index = make_index(dim=3)
    chunks, vectors = _chunks()
    index.upsert(chunks[:2], vectors[:2])  # weighted with the mean length of 2 documents
    index.upsert(chunks[2:], vectors[2:])
    before = dict(index.search_bm25("refunds paid days"))
    stats = dict(index.manifest["bm25"])
    assert index.reweight_bm25() == 4
    assert index.manifest["bm25"]["docs"] == stats["docs"]
    assert index.manifest["bm25"]["total_len"] == stats["total_len"]
    after = dict(index.search_bm25("refunds paid days"))
    assert set(after) == set(before)
    assert any(abs(after[p] - before[p]) > 1e-6 for p in after)  # the first batch used another avgdl


def test_parse_filters_rejects_unmatchable_values() -> None:
    with pytest.raises(InvalidFilterError, match="'tags'"):
        parse_filters({"tags": [1, "a"]})
    with pytest.raises(InvalidFilterError, match="range"):
        parse_filters({"year": {"after": 2020}})
    with pytest.raises(InvalidFilterError):
        parse_filters({"x": None})
    (c,) = parse_filters({"score": 0.5})
    assert (c.key, c.kind, c.value) == ("metadata.score", "range", {"gte": 0.5, "lte": 0.5})
