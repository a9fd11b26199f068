"""Fusion functions against hand-computed values."""

import pytest
from aiagents.retrieval.fusion import normalize, rrf, weighted_fusion


def test_rrf_hand_computed() -> None:
    fused = rrf([["a", "b", "c"], ["b", "d"]], k=60)
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 63)
    assert fused["d"] == pytest.approx(1 / 62)
    assert max(fused, key=fused.get) == "b"


def test_rrf_weights_and_small_k() -> None:
    fused = rrf([["a"], ["b"]], k=0, weights=[2.0, 1.0])
    assert fused == {"a": 2.0, "b": 1.0}
    with pytest.raises(ValueError):
        rrf([["a"]], k=1, weights=[1.0, 2.0])


def test_normalize_methods() -> None:
    s = {"a": 2.0, "b": 4.0, "c": 6.0}
    assert normalize(s, "minmax") == {"a": 0.0, "b": 0.5, "c": 1.0}
    z = normalize(s, "zscore")  # mean 4, population std sqrt(8/3)
    assert z["a"] == pytest.approx(-2 / (8 / 3) ** 0.5)
    assert z["b"] == 0.0
    assert normalize(s, "max")["a"] == pytest.approx(1 / 3)
    assert normalize({"a": 3.0}, "minmax") == {"a": 1.0}
    assert normalize({}, "zscore") == {}


def test_weighted_fusion_minmax_with_missing_documents() -> None:
    bm25 = {"a": 10.0, "b": 5.0, "c": 0.0}  # minmax: 1, .5, 0
    dense = {"b": 0.9, "d": 0.5}  # minmax: 1, 0
    fused = weighted_fusion([bm25, dense], [0.4, 0.6], normalization="minmax")
    # a missing from dense -> the dense floor (0); d missing from bm25 -> the bm25 floor (0)
    assert fused["a"] == pytest.approx(0.4)
    assert fused["b"] == pytest.approx(0.4 * 0.5 + 0.6 * 1.0)
    assert fused["c"] == pytest.approx(0.0)
    assert fused["d"] == pytest.approx(0.0)
    explicit = weighted_fusion([bm25, dense], [0.4, 0.6], normalization="minmax", missing=-1.0)
    assert explicit["a"] == pytest.approx(0.4 - 0.6)
