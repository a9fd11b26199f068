"""Embedders: sentence-transformers and the ONNX export give the same normalised vectors, offline."""

import numpy as np
import pytest
from aiagents.retrieval import CachedEmbedder, EmbeddingCache, get_embedder
from aiagents.retrieval.errors import UnknownEmbedderError

TEXTS = [
    "Vitamin D deficiency is associated with respiratory infections.",
    "x",
    "The mitochondria is the powerhouse of the cell. " * 60,  # longer than 256 tokens: truncated alike
]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from aiagents.settings import reset_settings

    mp = pytest.MonkeyPatch()
    mp.setenv("AIAGENTS_DATA_DIR", str(tmp_path_factory.mktemp("embedders")))
    reset_settings()
    from aiagents.retrieval.embedders import OnnxEmbedder, SentenceTransformerEmbedder
    from aiagents.retrieval.onnx_export import export_dir

    onnx = OnnxEmbedder()
    assert onnx.onnx_path.parent == export_dir()
    st = SentenceTransformerEmbedder()
    yield st, onnx
    mp.undo()
    reset_settings()


def test_same_vectors_and_shapes(pair) -> None:  # noqa: ANN001
    st, onnx = pair
    a, b = st.embed_documents(TEXTS), onnx.embed_documents(TEXTS)
    assert a.shape == b.shape == (3, 384)
    assert a.dtype == b.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(a * b, axis=1)) > 0.9999
    np.testing.assert_allclose(onnx.embed_query(TEXTS[0]), b[0], atol=1e-5)  # batching changes nothing
    assert st.name == onnx.name == "all-MiniLM-L6-v2"
    assert onnx.embed_documents([]).shape == (0, 384)


def test_cached_embedder_embeds_each_text_once(pair, tmp_path) -> None:  # noqa: ANN001
    _, onnx = pair
    cached = CachedEmbedder(onnx, EmbeddingCache(tmp_path / "cache.sqlite"))
    first = cached.embed_documents(["a b", "c d", "a b"])
    assert (cached.hits, cached.misses) == (1, 2)
    again = cached.embed_documents(["c d", "a b"])
    assert (cached.hits, cached.misses) == (3, 2)
    np.testing.assert_array_equal(again, first[[1, 0]])


def test_unknown_embedder_name() -> None:
    with pytest.raises(UnknownEmbedderError, match="minilm-onnx"):
        get_embedder("bert-large")
