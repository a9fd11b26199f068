"""Retriever: modes, fusion, filters, reranker hook, and OpenInference spans nested under the caller's span."""

import json
from collections.abc import Sequence

import numpy as np
import pytest
from aiagents.retrieval import Chunk, FusionConfig, Hit, IndexMismatchError, Retriever, open_index
from openinference.semconv.trace import OpenInferenceSpanKindValues, SpanAttributes
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

KIND = SpanAttributes.OPENINFERENCE_SPAN_KIND
DOCS = SpanAttributes.RETRIEVAL_DOCUMENTS

TEXTS = {
    "refunds": ("Refunds are paid within 14 days of the return arriving.", [1.0, 0.0, 0.0], "en"),
    "shipping": ("Shipping takes 3 to 5 working days inside the EU.", [0.0, 1.0, 0.0], "en"),
    "accounts": ("Delete your account from the privacy page in settings.", [0.0, 0.0, 1.0], "en"),
    "konto": ("Das Konto wird in den Einstellungen gelöscht, refunds nie.", [0.0, 0.2, 0.98], "de"),
}


class KeywordEmbedder:
    """A deterministic 3-d embedder: refund/money -> x, shipping/days -> y, account/settings -> z."""

    name = "keyword-test"
    dim = 3

    def _one(self, text: str) -> np.ndarray:
        t = text.lower()
        v = (
            np.array(
                [
                    ("refund" in t) + ("money" in t),
                    ("ship" in t) + ("deliver" in t),
                    ("account" in t) + ("settings" in t),
                ],
                dtype=np.float32,
            )
            + 0.01
        )
        return v / np.linalg.norm(v)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._one(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._one(text)


@pytest.fixture
def index():  # noqa: ANN201
    idx = open_index("retriever-test", dim=3, backend="edge", embedder="keyword-test")
    chunks = [Chunk(id=f"{d}#0", text=t, document_id=d, metadata={"lang": lang}) for d, (t, _, lang) in TEXTS.items()]
    idx.upsert(chunks, np.asarray([v for _, v, _ in TEXTS.values()], dtype=np.float32))
    yield idx
    idx.close()


@pytest.fixture
def spans():  # noqa: ANN201
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def test_modes_return_hits_with_per_method_scores(index) -> None:  # noqa: ANN001
    r = Retriever(index, KeywordEmbedder())
    bm25 = r.search("refunds paid", k=3, mode="bm25")
    assert [h.id for h in bm25] == ["refunds#0", "konto#0"]  # only documents sharing a term
    assert set(bm25[0].scores) == {"bm25"}
    assert [h.rank for h in bm25] == [1, 2]
    dense = r.search("when do I get my money", k=2, mode="dense")
    assert dense[0].id == "refunds#0"
    assert dense[0].scores["dense"] == pytest.approx(dense[0].score)
    assert set(r.search("refunds in settings", k=4, mode="hybrid")[0].scores) == {"hybrid"}  # fused in the engine
    hybrid = Retriever(index, KeywordEmbedder(), explain=True).search("refunds in settings", k=4, mode="hybrid")
    assert {"bm25", "dense", "hybrid"} <= set(hybrid[0].scores)
    assert hybrid[0].score == hybrid[0].scores["hybrid"]
    assert all(a.score >= b.score for a, b in zip(hybrid, hybrid[1:], strict=False))
    assert hybrid[0].metadata == {"lang": "en"} or hybrid[0].metadata == {"lang": "de"}


def test_hybrid_scores_match_fusion_formula(index) -> None:  # noqa: ANN001
    from aiagents.retrieval.fusion import rrf

    r = Retriever(index, KeywordEmbedder(), fusion=FusionConfig(method="rrf", rrf_k=60))
    hits = r.search("refunds", k=4, mode="hybrid")
    bm25 = r.search("refunds", k=10, mode="bm25")
    dense = r.search("refunds", k=10, mode="dense")
    expected = rrf([[h.id for h in bm25], [h.id for h in dense]], k=60)
    assert {h.id: h.score for h in hits} == pytest.approx({i: expected[i] for i in (h.id for h in hits)})
    assert hits[0].id == "refunds#0"  # first in both lists: 2/61


def test_filters_apply_in_every_mode(index) -> None:  # noqa: ANN001
    r = Retriever(index, KeywordEmbedder())
    for mode in ("bm25", "dense", "hybrid"):
        hits = r.search("refunds", k=5, mode=mode, filters={"lang": "de"})
        assert [h.id for h in hits] == ["konto#0"], mode


def test_reranker_reorders_candidates(index) -> None:  # noqa: ANN001
    class Reverse:
        def rerank(self, query: str, hits: Sequence[Hit]) -> list[Hit]:
            return sorted(hits, key=lambda h: h.id)

    r = Retriever(index, KeywordEmbedder(), reranker=Reverse())
    hits = r.search("refunds shipping account", k=2, mode="dense")
    assert [h.id for h in hits] == ["accounts#0", "konto#0"]
    assert [h.rank for h in hits] == [1, 2]


def test_embedder_mismatch_is_refused(index) -> None:  # noqa: ANN001
    class Other(KeywordEmbedder):
        name = "other"

    with pytest.raises(IndexMismatchError, match="keyword-test"):
        Retriever(index, Other())


def test_spans_nest_under_current_span_with_documents(index, spans) -> None:  # noqa: ANN001
    provider, exporter = spans
    tracer = provider.get_tracer("test")
    r = Retriever(index, KeywordEmbedder(), tracer=tracer)
    with tracer.start_as_current_span("rag-chain") as chain:
        hits = r.search("refunds", k=2, mode="hybrid")
    finished = {s.name: s for s in exporter.get_finished_spans()}
    assert set(finished) == {"rag-chain", "retrieve", "embed_query"}
    retrieve, embed = finished["retrieve"], finished["embed_query"]
    assert retrieve.parent.span_id == chain.get_span_context().span_id
    assert embed.parent.span_id == retrieve.context.span_id
    assert retrieve.attributes[KIND] == OpenInferenceSpanKindValues.RETRIEVER.value
    assert retrieve.attributes[SpanAttributes.INPUT_VALUE] == "refunds"
    for i, h in enumerate(hits):
        assert retrieve.attributes[f"{DOCS}.{i}.document.id"] == h.id
        assert retrieve.attributes[f"{DOCS}.{i}.document.score"] == pytest.approx(h.score)
        assert retrieve.attributes[f"{DOCS}.{i}.document.content"] == h.text
        meta = json.loads(retrieve.attributes[f"{DOCS}.{i}.document.metadata"])
        assert meta["document_id"] == h.document_id
        assert set(meta["scores"]) == set(h.scores)
    assert f"{DOCS}.2.document.id" not in retrieve.attributes
    assert embed.attributes[KIND] == OpenInferenceSpanKindValues.EMBEDDING.value
    assert embed.attributes[SpanAttributes.EMBEDDING_MODEL_NAME] == "keyword-test"
    assert embed.attributes[f"{SpanAttributes.EMBEDDING_EMBEDDINGS}.0.embedding.text"] == "refunds"


def test_bm25_mode_embeds_nothing(index, spans) -> None:  # noqa: ANN001
    provider, exporter = spans
    r = Retriever(index, KeywordEmbedder(), tracer=provider.get_tracer("test"))
    r.search("refunds", mode="bm25")
    assert [s.name for s in exporter.get_finished_spans()] == ["retrieve"]
    assert r.last_embed_ms == 0.0


@pytest.mark.parametrize("backend", ["edge", "memory"])
@pytest.mark.parametrize("method", ["dbsf", "rrf"])
def test_engine_fusion_ranks_as_the_explained_python_fusion(backend: str, method: str) -> None:
    """An engine-fused search (one call) gives the hits and scores of the two-list path that explains them."""
    rng = np.random.default_rng(7)
    words = ["refund", "shipping", "account", "invoice", "parcel", "return", "label", "warranty", "battery"]
    idx = open_index(f"fusion-{backend}-{method}", dim=8, backend=backend, embedder="random-test")
    chunks = [
        Chunk(id=f"d{i}#0", text=" ".join(rng.choice(words, size=6)), document_id=f"d{i}", metadata={"n": i % 3})
        for i in range(120)
    ]
    vectors = rng.normal(size=(120, 8)).astype(np.float32)
    idx.upsert(chunks, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    idx.optimize()

    class Fixed:
        name, dim = "random-test", 8

        def embed_query(self, text: str) -> np.ndarray:
            v = np.random.default_rng(len(text)).normal(size=8).astype(np.float32)
            return v / np.linalg.norm(v)

        def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
            raise AssertionError("not used")

    fused = Retriever(idx, Fixed(), fusion=FusionConfig(method=method, candidates=30))
    explained = Retriever(idx, Fixed(), fusion=FusionConfig(method=method, candidates=30), explain=True)
    for query, filters in [("refund battery", None), ("parcel label return", {"n": 1}), ("the and of", None)]:
        a = fused.search(query, k=10, filters=filters)
        b = explained.search(query, k=10, filters=filters)
        assert len(a) == 10 and all(set(h.scores) == {"hybrid"} for h in a)
        assert all("hybrid" in h.scores and {"bm25", "dense"} & set(h.scores) for h in b)
        assert [h.score for h in a] == pytest.approx([h.score for h in b], rel=1e-4)
        if method == "dbsf":  # RRF ties (rank i in one list, j in the other) may break either way
            assert [h.id for h in a] == [h.id for h in b]
        else:
            assert {h.id for h in a[:5]} == {h.id for h in b[:5]} or [h.score for h in a] == pytest.approx(
                [h.score for h in b]
            )
        if filters:
            assert all(h.metadata["n"] == 1 for h in a)
    idx.close()


def test_unknown_fusion_is_refused(index) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="'dbsf', 'rrf' or 'weighted'"):
        Retriever(index, KeywordEmbedder(), fusion="sum")
