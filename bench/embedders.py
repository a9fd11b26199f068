"""Embedders side by side on SciFact: sentence-transformers (the reference), the fp32 ONNX export and the
int8 model: documents per second, one query's latency, cosine to the reference and dense nDCG@10.

    python bench/embedders.py [--data ../shared/data/scifact] [--sample 256] [--rounds 3] [--skip-ndcg]

Speed: the three embedders take turns on the same documents and queries, round after round, so a busy
machine slows all of them alike; the table gives each one's median round and its ratio to
sentence-transformers in the same round (median of the rounds). Quality: the whole corpus embedded by
each ONNX model (cached by content hash under AIAGENTS_DATA_DIR, so a rerun only re-measures) and the
300 test queries searched exactly (numpy); sentence-transformers' vectors are the fp32 export's (cosine
1.000), so its nDCG is the fp32 row's. Prints a table and writes bench/results/embedders.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiagents.retrieval import CachedEmbedder, evaluate_run, get_embedder  # noqa: E402
from aiagents.retrieval.beir import document_text  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from scifact import DEFAULT_FOLDER, load_test  # noqa: E402

console = Console(stderr=True)
NAMES = {"minilm-st": "sentence-transformers (PyTorch)", "minilm-fp32": "ONNX fp32", "minilm-int8": "ONNX int8"}


def docs_per_second(embedder, texts: list[str]) -> tuple[float, np.ndarray]:  # noqa: ANN001
    t0 = time.perf_counter()
    vectors = embedder.embed_documents(texts)
    return len(texts) / (time.perf_counter() - t0), vectors


def query_ms(embedder, queries: list[str]) -> float:  # noqa: ANN001
    times = []
    for q in queries:
        t0 = time.perf_counter()
        embedder.embed_query(q)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def dense_ndcg(embedder, docs: list, queries: dict[str, str], qrels: dict) -> float:  # noqa: ANN001
    vectors = CachedEmbedder(embedder).embed_documents([document_text(d.title, d.text) for d in docs])
    ids = [d.id for d in docs]
    run = {}
    for qid, text in queries.items():
        scores = vectors @ embedder.embed_query(text)
        top = np.argpartition(-scores, 100)[:100]
        run[qid] = [ids[i] for i in top[np.argsort(-scores[top])]]
    return evaluate_run(run, qrels, ks=(10,))["ndcg@10"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(DEFAULT_FOLDER))
    ap.add_argument("--sample", type=int, default=256, help="documents per throughput round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--skip-ndcg", action="store_true", help="speed and cosine only (no whole-corpus embedding)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "embedders.json"))
    args = ap.parse_args()
    scifact = load_test(args.data)
    docs, qrels, queries = scifact.documents(), scifact.qrels, scifact.queries
    sample = [document_text(d.title, d.text) for d in docs[: args.sample]]
    query_texts = list(queries.values())

    embedders = {name: get_embedder(name) for name in NAMES}
    for e in embedders.values():  # warm-up: first calls allocate
        e.embed_documents(sample[:8])
        e.embed_query(query_texts[0])
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in NAMES}
    vectors: dict[str, np.ndarray] = {}
    for r in range(args.rounds):
        for name, e in embedders.items():
            dps, vectors[name] = docs_per_second(e, sample)
            rounds[name].append({"docs_per_s": dps, "query_p50_ms": query_ms(e, query_texts)})
            console.print(f"round {r + 1}: {name} {dps:.1f} docs/s, query {rounds[name][-1]['query_p50_ms']:.2f} ms")
    reference = vectors["minilm-st"]
    rows = {}
    for name in NAMES:
        cos = np.sum(vectors[name] * reference, axis=1)
        doc_ratio = [a["docs_per_s"] / b["docs_per_s"] for a, b in zip(rounds[name], rounds["minilm-st"], strict=True)]
        query_ratio = [
            b["query_p50_ms"] / a["query_p50_ms"] for a, b in zip(rounds[name], rounds["minilm-st"], strict=True)
        ]
        rows[name] = {
            "docs_per_s": statistics.median(x["docs_per_s"] for x in rounds[name]),
            "query_p50_ms": statistics.median(x["query_p50_ms"] for x in rounds[name]),
            "docs_speedup_vs_st": statistics.median(doc_ratio),
            "query_speedup_vs_st": statistics.median(query_ratio),
            "cosine_min": float(cos.min()),
            "cosine_mean": float(cos.mean()),
            "rounds": rounds[name],
        }
    if not args.skip_ndcg:
        for name in ("minilm-fp32", "minilm-int8"):
            t0 = time.perf_counter()
            rows[name]["dense_ndcg@10"] = dense_ndcg(embedders[name], docs, queries, qrels)
            console.print(f"{name}: nDCG@10 {rows[name]['dense_ndcg@10']:.4f} ({time.perf_counter() - t0:.0f} s)")
        rows["minilm-st"]["dense_ndcg@10"] = rows["minilm-fp32"]["dense_ndcg@10"]
    results = {
        "command": "python bench/embedders.py",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg()},
        "sample_docs": len(sample),
        "queries": len(query_texts),
        "rounds": args.rounds,
        "embedders": rows,
        "onnx_files": {name: str(getattr(embedders[name], "onnx_path", "")) for name in NAMES},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    title = f"Embedders on SciFact ({len(sample)} documents, {len(query_texts)} queries, {args.rounds} rounds)"
    table = Table(title=title)
    for col in ("embedder", "docs/s", "× ST", "query p50 ms", "× ST", "cosine to ST (min / mean)", "dense nDCG@10"):
        table.add_column(col, justify="left" if col == "embedder" else "right")
    for name, row in rows.items():
        table.add_row(
            f"{NAMES[name]} (`{name}`)",
            f"{row['docs_per_s']:.1f}",
            f"{row['docs_speedup_vs_st']:.2f}",
            f"{row['query_p50_ms']:.2f}",
            f"{row['query_speedup_vs_st']:.2f}",
            f"{row['cosine_min']:.4f} / {row['cosine_mean']:.4f}",
            f"{row['dense_ndcg@10']:.4f}" if "dense_ndcg@10" in row else "-",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
