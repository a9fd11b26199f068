"""SciFact end to end through `aiagents.ingestion.ingest`: docs/s and chunks/s per embedder, and the unchanged re-run.

For each embedder (sentence-transformers, ONNX) with an empty embedding cache and a fresh index:
first ingest of the corpus (read, chunk, embed, write, BM25 reweight, HNSW build), then a re-ingest
of the unchanged corpus (must be >= 20x faster). Model loading is timed apart from the runs.

    HF_HUB_OFFLINE=1 python bench/ingestion_scifact.py [--limit N] [--embedders minilm-st,minilm-onnx]

Prints a table and writes bench/results/ingestion_scifact.json after each embedder (not with --limit).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from aiagents.ingestion import BeirSource, Document, Problem, get_chunker, ingest  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from aiagents.settings import get_settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "data" / "scifact" / "corpus.jsonl"
RESULTS = ROOT / "bench" / "results" / "ingestion_scifact.json"


@dataclass(kw_only=True)
class Limited:
    """The first `limit` items of a source (for a quick smoke run)."""

    inner: BeirSource
    limit: int
    name: str = ""

    def __post_init__(self) -> None:
        self.name = f"{self.inner.name}[:{self.limit}]"

    def read(self) -> Iterator[Document | Problem]:
        return itertools.islice(self.inner.read(), self.limit)

    def estimate_count(self) -> int | None:
        return self.limit


def run(embedder_name: str, limit: int | None, chunker_name: str, console: Console) -> dict:
    from aiagents.retrieval.embedders import get_embedder

    t = time.perf_counter()
    embedder = get_embedder(embedder_name)
    embedder.embed_documents(["warm up the model"])
    load_s = time.perf_counter() - t
    source = BeirSource(path=CORPUS)
    src = Limited(inner=source, limit=limit) if limit else source
    index = f"bench-ingestion-{embedder_name}-{os.getpid()}"
    work = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    try:
        kwargs = dict(chunker=get_chunker(chunker_name), embedder=embedder, cache_path=work / "emb.sqlite")
        first = ingest(src, index, progress=True, **kwargs)
        again = ingest(src, index, progress=False, **kwargs)
    finally:
        shutil.rmtree(get_settings().indexes_dir / index, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    assert first.new == first.read and again.unchanged == first.read and again.embedded == 0
    return {
        "embedder": embedder_name,
        "model": embedder.name,
        "embedder_class": type(embedder).__name__,
        "model_load_seconds": round(load_s, 2),
        "docs": first.read,
        "chunks": first.chunks,
        "first_run_seconds": round(first.seconds, 2),
        "docs_per_second": round(first.docs_per_second, 2),
        "chunks_per_second": round(first.chunks_per_second, 2),
        "rerun_unchanged_seconds": round(again.seconds, 3),
        "rerun_speedup": round(first.seconds / again.seconds, 1),
        "skipped": len(first.skipped),
    }


def save(row: dict, chunker: str) -> None:
    """Merge one embedder's row into the results file (rows of other embedders are kept)."""
    import torch

    data = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    if data.get("chunker") != chunker:
        data = {}
    runs = [r for r in data.get("runs", []) if r["embedder"] != row["embedder"]] + [row]
    row["date"] = time.strftime("%Y-%m-%d %H:%M:%S")
    data = {
        "benchmark": "ingestion_scifact",
        "command": "HF_HUB_OFFLINE=1 python bench/ingestion_scifact.py [--embedders minilm-st,minilm-onnx]",
        "corpus": str(CORPUS.relative_to(ROOT.parent)),
        "chunker": chunker,
        "machine": {
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(),
            "note": "2 cores shared with other engineers' work running at the same time",
        },
        "runs": sorted(runs, key=lambda r: r["embedder"]),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents (no results file)")
    parser.add_argument("--embedders", default="minilm-st,minilm-onnx")
    parser.add_argument("--chunker", default="markdown")
    args = parser.parse_args()
    console = Console(stderr=True)
    if not CORPUS.is_file():
        sys.exit(f"{CORPUS} not found: the SciFact corpus is expected under ../shared/data/scifact")
    signature = get_chunker(args.chunker).signature
    rows = []
    for name in args.embedders.split(","):
        rows.append(run(name, args.limit, args.chunker, console))
        console.print(json.dumps(rows[-1]))
        if args.limit is None:  # saved after each embedder: a later failure keeps earlier results
            save(rows[-1], signature)
    table = Table(title=f"SciFact ingestion ({rows[0]['docs']} docs, chunker {signature})")
    for col in ("embedder", "chunks", "first run s", "docs/s", "chunks/s", "re-run s", "speed-up", "load s"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            f"{r['embedder']} ({r['embedder_class']})",
            str(r["chunks"]),
            f"{r['first_run_seconds']:.1f}",
            f"{r['docs_per_second']:.1f}",
            f"{r['chunks_per_second']:.1f}",
            f"{r['rerun_unchanged_seconds']:.2f}",
            f"{r['rerun_speedup']:.0f}x",
            f"{r['model_load_seconds']:.1f}",
        )
    Console().print(table)
    if args.limit is None:
        console.print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
