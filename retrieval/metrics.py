"""Ranking metrics for one query (hit rate, MRR, recall, nDCG) and their mean over a run.

`ranked_ids` is the system's ranking, best first; `relevant` maps document id -> graded relevance
(BEIR qrels); a grade <= 0 counts as not relevant. nDCG follows pytrec_eval / BEIR: gain = grade,
discount = 1 / log2(rank + 1), ideal DCG from the best possible ordering of the judged documents.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

__all__ = ["hit_rate_at_k", "mrr_at_k", "recall_at_k", "ndcg_at_k", "evaluate_run", "DEFAULT_KS"]

DEFAULT_KS: tuple[int, ...] = (1, 3, 5, 10, 100)


def _dedupe(ranked_ids: Iterable[str], k: int) -> list[str]:
    seen: dict[str, None] = {}
    for d in ranked_ids:
        if d not in seen:
            seen[d] = None
            if len(seen) == k:
                break
    return list(seen)


def hit_rate_at_k(ranked_ids: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """1.0 if any relevant document is in the top k, else 0.0."""
    return 1.0 if any(relevant.get(d, 0) > 0 for d in _dedupe(ranked_ids, k)) else 0.0


def mrr_at_k(ranked_ids: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """1 / rank of the first relevant document within the top k, else 0.0."""
    for rank, d in enumerate(_dedupe(ranked_ids, k), start=1):
        if relevant.get(d, 0) > 0:
            return 1.0 / rank
    return 0.0


def recall_at_k(ranked_ids: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """Share of the relevant documents found in the top k (0.0 when nothing is relevant)."""
    n_relevant = sum(1 for g in relevant.values() if g > 0)
    if n_relevant == 0:
        return 0.0
    return sum(1 for d in _dedupe(ranked_ids, k) if relevant.get(d, 0) > 0) / n_relevant


def ndcg_at_k(ranked_ids: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """Normalised discounted cumulative gain at k with graded relevance (linear gain)."""
    dcg = sum(
        relevant.get(d, 0) / math.log2(rank + 1)
        for rank, d in enumerate(_dedupe(ranked_ids, k), start=1)
        if relevant.get(d, 0) > 0
    )
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal, start=1))
    return dcg / idcg if idcg > 0 else 0.0


def evaluate_run(
    run: Mapping[str, Sequence[str]],
    qrels: Mapping[str, Mapping[str, int]],
    ks: Sequence[int] = DEFAULT_KS,
) -> dict[str, float]:
    """Mean of each metric at each k over the queries of `qrels` that have a relevant document.

    Keys look like `ndcg@10`, `recall@100`, `mrr@10`, `hit@10`, plus `queries` (the count). A query
    missing from `run` scores 0 (it retrieved nothing).
    """
    judged = [q for q, rels in qrels.items() if any(g > 0 for g in rels.values())]
    out: dict[str, float] = {}
    for k in ks:
        for name, fn in (
            ("ndcg", ndcg_at_k),
            ("recall", recall_at_k),
            ("mrr", mrr_at_k),
            ("hit", hit_rate_at_k),
        ):
            values = [fn(run.get(q, ()), qrels[q], k) for q in judged]
            out[f"{name}@{k}"] = sum(values) / len(values) if values else 0.0
    out["queries"] = len(judged)
    return out
