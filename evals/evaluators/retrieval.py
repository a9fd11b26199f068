"""Retrieval evaluator: hit@k, MRR@k, recall@k and nDCG@k of the retrieved ids against the case's
expected documents (the metric functions are `aiagents.retrieval.metrics`', the same the retrieval benchmarks use)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiagents.evals.evaluators.context import expected_documents, retrieved_ids
from aiagents.retrieval.metrics import hit_rate_at_k, mrr_at_k, ndcg_at_k, recall_at_k
from pydantic_evals.evaluators import EvaluationReason, Evaluator, EvaluatorContext

__all__ = ["RetrievalMetrics"]

_METRICS = {"hit": hit_rate_at_k, "mrr": mrr_at_k, "recall": recall_at_k, "ndcg": ndcg_at_k}


@dataclass(repr=False)
class RetrievalMetrics(Evaluator[Any, Any, Any]):
    """Ranking metrics at `k` for the ids retrieved (from the output, or from the trajectory's
    `retrieval_tools` results), as `{"hit@k": ..., "mrr@k": ..., "recall@k": ..., "ndcg@k": ...}`.
    With `min_ndcg` set, also `retrieval_pass` (nDCG@k >= min_ndcg)."""

    k: int = 10
    expected: Mapping[str, int] | None = None
    """Relevant ids -> grade; default: the case's `expected_documents`."""
    metrics: tuple[str, ...] = ("hit", "mrr", "recall", "ndcg")
    retrieval_tools: tuple[str, ...] = ()
    """Tools whose results count as retrieval (empty: every tool result with ids)."""
    id_field: str = "document_id"
    """Which id of a hit to compare: `document_id` (default) or `id` (chunk id)."""
    min_ndcg: float | None = None

    def evaluate(self, ctx: EvaluatorContext[Any, Any, Any]) -> dict[str, EvaluationReason]:
        relevant = expected_documents(ctx, self.expected)
        if not relevant:
            return {"retrieval": EvaluationReason(False, "no expected documents for this case")}
        ranked = retrieved_ids(ctx, self.retrieval_tools, self.id_field)
        found = [d for d in ranked[: self.k] if relevant.get(d, 0) > 0]
        why = f"top {self.k} of {len(ranked)} retrieved hold {len(found)}/{len(relevant)} relevant: {found}"
        out: dict[str, EvaluationReason] = {}
        for m in self.metrics:
            if m not in _METRICS:
                raise ValueError(f"unknown retrieval metric {m!r}; use {sorted(_METRICS)}")
            out[f"{m}@{self.k}"] = EvaluationReason(_METRICS[m](ranked, relevant, self.k), why)
        if self.min_ndcg is not None:
            nd = ndcg_at_k(ranked, relevant, self.k)
            out["retrieval_pass"] = EvaluationReason(nd >= self.min_ndcg, f"nDCG@{self.k} {nd:.3f} vs {self.min_ndcg}")
        return out
