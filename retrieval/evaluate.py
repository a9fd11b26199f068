"""Build (or reuse) an index from a BEIR corpus and evaluate a retriever on a qrels file."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aiagents.retrieval.beir import document_text, iter_corpus, load_judged_qrels, load_queries
from aiagents.retrieval.embedders import Embedder, embedder_key
from aiagents.retrieval.embedding_cache import CachedEmbedder, text_hash
from aiagents.retrieval.index import HybridIndex, open_index
from aiagents.retrieval.metrics import evaluate_run
from aiagents.retrieval.retriever import Mode, Retriever
from aiagents.retrieval.types import Chunk

__all__ = ["file_sha256", "beir_index_name", "build_beir_index", "run_queries", "evaluate_beir", "RunResult"]

Progress = Callable[[int, int], None]


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def beir_index_name(corpus_sha256: str, embedder: Embedder) -> str:
    """Index name keyed by the corpus file's content and the embedder, so a rerun reuses it."""
    slug = "".join(ch if ch.isalnum() else "-" for ch in embedder_key(embedder).lower())
    return f"beir-{corpus_sha256[:16]}-{slug}"


def build_beir_index(
    corpus: str | Path,
    embedder: Embedder,
    *,
    name: str | None = None,
    backend: str | None = None,
    batch_size: int = 256,
    progress: Progress | None = None,
) -> tuple[HybridIndex, float, bool]:
    """Open the index of this corpus, building it unless a complete one exists.

    One chunk per BEIR document (id = `_id`, text = title + " " + text). Document embeddings go
    through the on-disk cache, so a rebuild re-embeds nothing. Returns (index, seconds, reused).
    """
    start = time.perf_counter()
    digest = file_sha256(corpus)
    name = name or beir_index_name(digest, embedder)
    index = open_index(name, dim=embedder.dim, backend=backend, embedder=embedder.name)
    info = index.info
    if info.get("complete") and info.get("corpus_sha256") == digest:
        return index, time.perf_counter() - start, True
    cached = embedder if isinstance(embedder, CachedEmbedder) else CachedEmbedder(embedder)
    docs = list(iter_corpus(corpus))
    total = len(docs)
    done = 0
    for s in range(0, total, batch_size):
        part = docs[s : s + batch_size]
        chunks = []
        for d in part:
            text = document_text(d.title, d.text)
            chunks.append(
                Chunk(
                    id=d.id,
                    text=text,
                    document_id=d.id,
                    metadata={"title": d.title, **d.metadata},
                    content_hash=text_hash(text),
                )
            )
        vectors = cached.embed_documents([c.text for c in chunks])
        index.upsert(chunks, vectors)
        done += len(part)
        if progress:
            progress(done, total)
    index.optimize()
    index.flush()
    index.update_info(complete=True, corpus_sha256=digest, corpus_path=str(corpus), documents=total)
    return index, time.perf_counter() - start, False


@dataclass(kw_only=True)
class RunResult:
    """Rankings and timings of a query run."""

    run: dict[str, list[str]]
    """Query id -> ranked document ids."""
    total_ms: list[float] = field(default_factory=list)
    """Per query: the whole `Retriever.search` call."""
    search_ms: list[float] = field(default_factory=list)
    """Per query: the same call minus the query embedding."""


def run_queries(
    retriever: Retriever,
    queries: Mapping[str, str],
    *,
    mode: Mode,
    k: int = 100,
    progress: Progress | None = None,
) -> RunResult:
    """Run every query; rankings are document ids (the first chunk of each document counts)."""
    result = RunResult(run={})
    for i, (qid, text) in enumerate(queries.items(), start=1):
        t0 = time.perf_counter()
        hits = retriever.search(text, k=k, mode=mode)
        elapsed = (time.perf_counter() - t0) * 1000
        result.total_ms.append(elapsed)
        result.search_ms.append(elapsed - retriever.last_embed_ms)
        result.run[qid] = list(dict.fromkeys(h.document_id for h in hits))
        if progress:
            progress(i, len(queries))
    return result


def evaluate_beir(
    retriever: Retriever,
    queries_path: str | Path,
    qrels_path: str | Path,
    *,
    mode: Mode,
    k: int = 10,
    ks: Sequence[int] = (1, 3, 5, 10, 100),
    progress: Progress | None = None,
) -> tuple[dict[str, float], RunResult]:
    """Metrics over the judged queries of a qrels file (queries without a relevant document skipped)."""
    qrels = load_judged_qrels(qrels_path)
    all_queries = load_queries(queries_path)
    missing = [q for q in qrels if q not in all_queries]
    if missing:
        from aiagents.retrieval.errors import BeirFormatError

        raise BeirFormatError(
            f"{qrels_path}: {len(missing)} query id(s) have no text in {queries_path} (e.g. {missing[0]!r})"
        )
    queries = {q: all_queries[q] for q in qrels}
    result = run_queries(retriever, queries, mode=mode, k=max(max(ks), k), progress=progress)
    return evaluate_run(result.run, qrels, ks=sorted(set(ks) | {k})), result
