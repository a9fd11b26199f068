"""Hybrid retrieval tuned on SciFact without the reported queries' labels: two-fold cross-validation.

    python bench/retrieval_tuning.py [--data ../shared/data/scifact] [--embedder minilm]

The 300 test queries are split in two fixed halves (by a hash of the query id, in
bench/scifact.py). Every configuration of the grid (tokeniser, BM25 k1 and b, fusion method
and its weight or k, candidates per list) is scored on each half; the best configuration on one half is
reported on the other half only, and the cross-validated nDCG@10 is the two held-out halves' figures
weighted by their sizes: no query's labels choose the configuration its figure comes from. The
configuration both halves agree on (or the better of the two on their union, reported as such) is the
candidate for the framework's defaults. BM25 here is the in-memory `SparseBM25` (the index's formula),
dense search is exact over the corpus vectors (cached by content hash), and fusion is the framework's
`rrf` / `weighted_fusion`. Prints a table and writes bench/results/retrieval_tuning.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiagents.retrieval import BM25Params, CachedEmbedder, SparseBM25, Tokenizer, get_embedder  # noqa: E402
from aiagents.retrieval.beir import document_text  # noqa: E402
from aiagents.retrieval.fusion import dbsf, rrf, weighted_fusion  # noqa: E402
from aiagents.retrieval.metrics import ndcg_at_k  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from scifact import DEFAULT_FOLDER, load_test, split  # noqa: E402

console = Console(stderr=True)
DEPTH = 200  # candidates kept per list before the grid cuts them


TOKENIZERS = {
    "porter": lambda: Tokenizer(language="porter"),  # the default
    "snowball": lambda: Tokenizer(language="english"),
    "no-stem": lambda: Tokenizer(language=""),
    "no-stopwords": lambda: Tokenizer(stopwords=frozenset()),
}
BM25_GRID = [BM25Params(k1=k1, b=b) for k1, b in itertools.product((0.9, 1.2, 1.5, 2.0), (0.5, 0.65, 0.75, 0.9))]
FUSIONS = (
    [{"method": "weighted", "norm": n, "w": w} for n in ("zscore", "minmax") for w in (0.3, 0.4, 0.5, 0.6, 0.7)]
    + [{"method": "rrf", "k": k} for k in (5, 10, 20, 40, 60)]
    + [{"method": "dbsf"}]
)
CANDIDATES = (20, 50, 100, 200)


def top(scores: np.ndarray, depth: int) -> list[tuple[int, float]]:
    idx = np.argpartition(-scores, depth)[:depth]
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    return [(int(i), float(scores[i])) for i in idx]


def fuse(bm25: list[tuple[int, float]], dense: list[tuple[int, float]], cfg: dict, n: int) -> list[int]:
    b, d = bm25[:n], dense[:n]
    if cfg["method"] == "rrf":
        fused = rrf([[i for i, _ in b], [i for i, _ in d]], k=cfg["k"])
    elif cfg["method"] == "dbsf":
        fused = dbsf([dict(b), dict(d)])
    else:
        fused = weighted_fusion([dict(b), dict(d)], [1 - cfg["w"], cfg["w"]], normalization=cfg["norm"])
    return [i for i, _ in sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:10]]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(DEFAULT_FOLDER))
    ap.add_argument("--embedder", default="minilm")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "retrieval_tuning.json"))
    args = ap.parse_args()
    scifact = load_test(args.data)
    docs = scifact.documents()
    texts = [document_text(d.title, d.text) for d in docs]
    doc_ids = [d.id for d in docs]
    qrels, all_queries = scifact.qrels, scifact.queries
    qids = sorted(qrels)
    half_a, half_b = split(qids)
    rel = qrels

    t0 = time.perf_counter()
    embedder = get_embedder(args.embedder)
    vectors = CachedEmbedder(embedder).embed_documents(texts)
    dense = {q: top(vectors @ embedder.embed_query(all_queries[q]), DEPTH) for q in qids}
    console.print(
        f"dense lists ({type(embedder).__name__} {getattr(embedder, 'variant', '') or 'fp32'}): "
        f"{time.perf_counter() - t0:.0f} s"
    )

    per_query: dict[str, dict[str, float]] = {}  # config key -> query -> nDCG@10
    configs: dict[str, dict] = {}
    for tok_name, make in TOKENIZERS.items():
        tok = make()
        corpus_terms = tok.many(texts)
        query_terms = {q: tok(all_queries[q]) for q in qids}
        for params in BM25_GRID:
            bm = SparseBM25(corpus_terms, params)
            bm25 = {q: [(i, s) for i, s in top(bm.scores(query_terms[q]), DEPTH) if s > 0] for q in qids}
            base = {"tokenizer": tok_name, "k1": params.k1, "b": params.b}
            key = json.dumps({**base, "method": "bm25"})
            configs[key] = {**base, "method": "bm25"}
            per_query[key] = {q: ndcg_at_k([doc_ids[i] for i, _ in bm25[q][:10]], rel[q], 10) for q in qids}
            for cfg, n in itertools.product(FUSIONS, CANDIDATES):
                full = {**base, **cfg, "candidates": n}
                key = json.dumps(full)
                configs[key] = full
                per_query[key] = {
                    q: ndcg_at_k([doc_ids[i] for i in fuse(bm25[q], dense[q], cfg, n)], rel[q], 10) for q in qids
                }
        elapsed = time.perf_counter() - t0
        console.print(f"tokenizer {tok_name}: {len(per_query)} configurations so far ({elapsed:.0f} s)")
    dense_only = {q: ndcg_at_k([doc_ids[i] for i, _ in dense[q][:10]], rel[q], 10) for q in qids}

    def mean(key: str, qs: list[str]) -> float:
        return float(np.mean([per_query[key][q] for q in qs]))

    hybrid = [k for k, c in configs.items() if c["method"] != "bm25"]
    best_a = max(hybrid, key=lambda k: (mean(k, half_a), k))
    best_b = max(hybrid, key=lambda k: (mean(k, half_b), k))
    held_out = (mean(best_a, half_b) * len(half_b) + mean(best_b, half_a) * len(half_a)) / len(qids)
    current = json.dumps({"tokenizer": "porter", "k1": 1.2, "b": 0.75, "method": "dbsf", "candidates": 100})
    bm25_default = json.dumps({"tokenizer": "porter", "k1": 1.2, "b": 0.75, "method": "bm25"})
    results = {
        "command": f"python bench/retrieval_tuning.py --embedder {args.embedder}",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "embedder": {"name": embedder.name, "variant": getattr(embedder, "variant", "") or "fp32"},
        "split": {"A": len(half_a), "B": len(half_b), "rule": "sha256(query id)[0] even -> A"},
        "configurations": len(configs),
        "current_default": {
            "config": configs[current],
            "A": mean(current, half_a),
            "B": mean(current, half_b),
            "all": mean(current, qids),
        },  # fmt: skip
        "bm25_default": mean(bm25_default, qids),
        "dense": float(np.mean(list(dense_only.values()))),
        "best_on_A": {
            "config": configs[best_a],
            "A": mean(best_a, half_a),
            "B (held out)": mean(best_a, half_b),
            "all": mean(best_a, qids),
        },  # fmt: skip
        "best_on_B": {
            "config": configs[best_b],
            "B": mean(best_b, half_b),
            "A (held out)": mean(best_b, half_a),
            "all": mean(best_b, qids),
        },  # fmt: skip
        "cross_validated_ndcg@10": held_out,
    }
    # The top configurations by their worse half: robust choices for a default.
    ranked = sorted(hybrid, key=lambda k: -min(mean(k, half_a), mean(k, half_b)))[:10]
    results["top_by_worse_half"] = [
        {"config": configs[k], "A": mean(k, half_a), "B": mean(k, half_b), "all": mean(k, qids)} for k in ranked
    ]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))

    table = Table(title=f"SciFact hybrid nDCG@10, two-fold cross-validation ({len(configs)} configurations)")
    for col in ("configuration", "chosen on", "A", "B", "held out"):
        table.add_column(col)
    table.add_row("current default", "-", *(f"{results['current_default'][h]:.4f}" for h in ("A", "B")), "-")
    table.add_row(json.dumps(configs[best_a]), "A", f"{mean(best_a, half_a):.4f}", f"{mean(best_a, half_b):.4f}",
                  f"B {mean(best_a, half_b):.4f}")  # fmt: skip
    table.add_row(json.dumps(configs[best_b]), "B", f"{mean(best_b, half_a):.4f}", f"{mean(best_b, half_b):.4f}",
                  f"A {mean(best_b, half_a):.4f}")  # fmt: skip
    Console().print(table)
    print(f"cross-validated nDCG@10: {held_out:.4f} (BM25 {results['bm25_default']:.4f}, dense {results['dense']:.4f},"
          f" current default {results['current_default']['all']:.4f})")  # fmt: skip


if __name__ == "__main__":
    main()
