"""Ranking metrics against hand-computed values."""

import math

import pytest
from aiagents.retrieval.metrics import evaluate_run, hit_rate_at_k, mrr_at_k, ndcg_at_k, recall_at_k

RANKED = ["a", "b", "c", "d", "e"]
RELEVANT = {"b": 2, "d": 1, "z": 1, "n": 0}  # z never retrieved; n judged not relevant


def test_hit_rate() -> None:
    assert hit_rate_at_k(RANKED, RELEVANT, 1) == 0.0
    assert hit_rate_at_k(RANKED, RELEVANT, 2) == 1.0


def test_mrr() -> None:
    assert mrr_at_k(RANKED, RELEVANT, 1) == 0.0
    assert mrr_at_k(RANKED, RELEVANT, 5) == 0.5
    assert mrr_at_k(["n", "x", "d"], RELEVANT, 3) == pytest.approx(1 / 3)


def test_recall_counts_only_positive_grades() -> None:
    assert recall_at_k(RANKED, RELEVANT, 2) == pytest.approx(1 / 3)
    assert recall_at_k(RANKED, RELEVANT, 5) == pytest.approx(2 / 3)
    assert recall_at_k(RANKED, {"x": 0}, 5) == 0.0


def test_ndcg_graded() -> None:
    # DCG@5 = 2/log2(3) + 1/log2(5); ideal = 2/log2(2) + 1/log2(3) + 1/log2(4)
    dcg = 2 / math.log2(3) + 1 / math.log2(5)
    idcg = 2 / 1 + 1 / math.log2(3) + 1 / 2
    assert ndcg_at_k(RANKED, RELEVANT, 5) == pytest.approx(dcg / idcg)
    # at k=1 the ideal list is just the grade-2 document
    assert ndcg_at_k(["b"], RELEVANT, 1) == 1.0
    assert ndcg_at_k(["d"], RELEVANT, 1) == pytest.approx(0.5)


def test_duplicates_count_once() -> None:
    assert recall_at_k(["b", "b", "d"], {"b": 1, "d": 1}, 2) == 1.0


def test_evaluate_run_means_and_skips_unjudged_queries() -> None:
    run = {"q1": ["a", "b"], "q2": ["x"], "q3": ["y"]}
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"y": 0}, "q4": {"c": 1}}
    out = evaluate_run(run, qrels, ks=(1, 10))
    assert out["queries"] == 3  # q3 has no relevant document; q4 is missing from the run: scores 0
    assert out["hit@1"] == pytest.approx(1 / 3)
    assert out["mrr@10"] == pytest.approx(1 / 3)
    assert out["ndcg@10"] == pytest.approx(1 / 3)
