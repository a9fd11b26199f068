"""Embedders: sentence-transformers and the ONNX export give the same normalised vectors, the int8 model
close ones, offline."""

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
    with pytest.raises(UnknownEmbedderError, match="minilm-int8, minilm-fp32"):
        get_embedder("bert-large")


def test_int8_model_is_close_to_the_reference_and_cached_apart(pair, tmp_path) -> None:  # noqa: ANN001
    from aiagents.retrieval.embedders import OnnxEmbedder, embedder_key
    from aiagents.retrieval.onnx_export import INT8_MIN_COSINE, ensure_int8_model

    st, fp32 = pair
    int8 = OnnxEmbedder(precision="int8")
    assert int8.onnx_path.name == "model.int8.onnx"
    # int8 layer weights (the 47 MB embedding table stays fp32), not a copy of the fp32 file
    assert int8.onnx_path.stat().st_size < 0.7 * fp32.onnx_path.stat().st_size
    assert ensure_int8_model(lambda p: 0.0) == (int8.onnx_path, True)  # verified once, then only read
    a, b = st.embed_documents(TEXTS), int8.embed_documents(TEXTS)
    cosines = np.sum(a * b, axis=1)
    assert INT8_MIN_COSINE <= cosines.min() < 0.9999, cosines  # close, and really quantised
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    # Same model name (an index built by either is searched by both); the cache keeps them apart.
    assert int8.name == fp32.name and (embedder_key(int8), embedder_key(fp32)) == (
        "all-MiniLM-L6-v2@int8",
        "all-MiniLM-L6-v2",
    )
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    CachedEmbedder(fp32, cache).embed_documents(TEXTS[:1])
    cached_int8 = CachedEmbedder(int8, cache)
    np.testing.assert_array_equal(cached_int8.embed_documents(TEXTS[:1]), int8.embed_documents(TEXTS[:1]))
    assert cached_int8.misses == 1  # the fp32 vector was not served to the int8 embedder
