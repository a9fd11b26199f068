"""Tokeniser and BM25: the sparse fast path, rank-bm25 and the Qdrant index agree score for score."""

import math

import numpy as np
import pytest
from aiagents.retrieval.bm25 import BM25Params, ReferenceBM25, SparseBM25, document_vector, idf, query_vector
from aiagents.retrieval.index import open_index, point_id
from aiagents.retrieval.tokenizer import Tokenizer, term_id
from aiagents.retrieval.types import Chunk

DOCS = [
    "Vitamin D deficiency raises the risk of respiratory infections in children.",
    "Children who are running and playing outdoors get more vitamin D.",
    "Aspirin lowers the risk of heart attacks; aspirin is cheap.",
    "The risk of infection after surgery depends on the hospital.",
    "Heart disease and diabetes share risk factors.",
    "Sunlight produces vitamin D in skin.",
]
QUERIES = ["vitamin D infections", "aspirin heart risk", "risk risk surgery", "sunlight", "unrelated words"]


def test_tokenizer_lowercases_drops_stopwords_and_stems() -> None:
    tok = Tokenizer()
    assert tok("The Children are RUNNING to the hospitals!") == ["children", "run", "hospit"]
    assert tok("a I") == []  # stop words and one-letter tokens go
    assert Tokenizer(language="")("Running dogs") == ["running", "dogs"]


def test_term_id_is_stable_u32() -> None:
    assert term_id("vitamin") == term_id("vitamin") == 0xFFFFFFFF & term_id("vitamin")
    assert term_id("vitamin") != term_id("vitamins")


def test_document_vector_hand_computed() -> None:
    # tf(a)=2, tf(b)=1, dl=3, avgdl=3 -> norm = k1; weight = tf*(k1+1)/(tf+k1)
    terms = ["aa", "bb", "aa"]
    indices, values = document_vector(terms, avgdl=3.0, params=BM25Params(k1=1.2, b=0.75))
    got = dict(zip(indices, values, strict=True))
    assert got[term_id("aa")] == pytest.approx(2 * 2.2 / (2 + 1.2))
    assert got[term_id("bb")] == pytest.approx(1 * 2.2 / (1 + 1.2))
    assert idf(1, 4) == pytest.approx(math.log(1 + 3.5 / 1.5))
    assert dict(zip(*query_vector(["aa", "aa", "bb"]), strict=True)) == {term_id("aa"): 2.0, term_id("bb"): 1.0}


@pytest.mark.parametrize("params", [BM25Params(), BM25Params(k1=1.5, b=0.3)])
def test_sparse_fast_path_equals_rank_bm25(params: BM25Params) -> None:
    tok = Tokenizer()
    corpus = tok.many(DOCS)
    reference = ReferenceBM25(corpus, params)
    fast = SparseBM25(corpus, params)
    for q in QUERIES:
        expected = reference.get_scores(tok(q))
        np.testing.assert_allclose(fast.scores(tok(q)), expected, rtol=1e-5, atol=1e-6)
    top = fast.top_k(tok("vitamin D infections"), k=3)
    assert [row for row, _ in top] == list(np.argsort(-reference.get_scores(tok("vitamin D infections")))[:3])
    assert fast.top_k(tok("unrelated words"), k=3) == []


@pytest.mark.parametrize("backend", ["edge", "memory"])
def test_index_bm25_equals_rank_bm25(backend: str) -> None:
    tok = Tokenizer()
    reference = ReferenceBM25(tok.many(DOCS))
    index = open_index("bm25-check", dim=2, backend=backend)
    chunks = [Chunk(id=f"d{i}", text=t, document_id=f"d{i}") for i, t in enumerate(DOCS)]
    index.upsert(chunks, np.ones((len(DOCS), 2), dtype=np.float32))
    rows = {point_id(f"d{i}"): i for i in range(len(DOCS))}
    for q in QUERIES:
        expected = reference.get_scores(tok(q))
        got = index.search_bm25(q, limit=10)
        assert len(got) == int((expected > 0).sum())
        for pid, score in got:
            assert score == pytest.approx(expected[rows[pid]], rel=1e-5)
    index.close()
