"""`aiagents search` and `aiagents eval retrieval`: query an index; measure retrieval on BEIR data."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from aiagents.cli.output import console, fail, print_json, run_guarded

__all__ = ["register", "register_eval", "search", "eval_retrieval"]

ModeOpt = Annotated[str, typer.Option("--mode", help="bm25, dense or hybrid.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
EmbedderOpt = Annotated[
    str,
    typer.Option("--embedder", help="minilm (fastest verified: int8 ONNX), minilm-int8, minilm-fp32 or minilm-st."),
]
BackendOpt = Annotated[
    str | None,
    typer.Option("--backend", help="edge (embedded, default), qdrant (AIAGENTS_QDRANT_URL) or memory."),
]
FusionOpt = Annotated[
    str | None,
    typer.Option("--fusion", help="Hybrid fusion: dbsf, rrf or weighted (default: the retriever's, see README)."),
]

_MODES = ("bm25", "dense", "hybrid")


def _check_mode(mode: str) -> None:
    if mode not in _MODES:
        raise typer.BadParameter(f"--mode must be one of {', '.join(_MODES)}, got {mode!r}")


def _parse_filters(items: list[str] | None) -> dict[str, Any]:
    """`key=value` pairs; a comma-separated value means any of; numbers stay numbers."""

    def scalar(v: str) -> Any:
        for cast in (int, float):
            try:
                return cast(v)
            except ValueError:
                pass
        return {"true": True, "false": False}.get(v.lower(), v)

    filters: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"--filter takes key=value, got {item!r}")
        values = [scalar(v) for v in value.split(",")]
        filters[key] = values if len(values) > 1 else values[0]
    return filters


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    index: Annotated[str, typer.Option("--index", help="Index name (see `aiagents ingest`).")],
    mode: ModeOpt = "hybrid",
    k: Annotated[int, typer.Option("-k", "--k", help="Number of hits.")] = 10,
    filters: Annotated[
        list[str] | None, typer.Option("--filter", help="Metadata filter key=value (a,b = any of); repeatable.")
    ] = None,
    embedder: EmbedderOpt = "minilm",
    backend: BackendOpt = None,
    fusion: FusionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search an index by BM25, dense vectors or both (traced as RETRIEVER + EMBEDDING spans)."""
    from aiagents.retrieval import Retriever, get_embedder, open_index
    from aiagents.tracing import setup as setup_tracing

    _check_mode(mode)
    parsed = _parse_filters(filters)
    setup_tracing()
    idx = run_guarded(open_index, index, backend=backend)
    try:
        emb = run_guarded(get_embedder, embedder)
        retriever = run_guarded(Retriever, idx, emb, fusion=fusion, explain=True)  # the per-method column
        t0 = time.perf_counter()
        hits = run_guarded(retriever.search, query, k=k, mode=mode, filters=parsed)
        took = (time.perf_counter() - t0) * 1000
    finally:
        idx.close()
    if as_json:
        print_json(
            {
                "query": query,
                "index": index,
                "mode": mode,
                "k": k,
                "filters": parsed,
                "took_ms": round(took, 2),
                "hits": [
                    {
                        "rank": h.rank,
                        "id": h.id,
                        "document_id": h.document_id,
                        "score": h.score,
                        "scores": h.scores,
                        "text": h.text,
                        "metadata": h.metadata,
                    }
                    for h in hits
                ],
            }
        )
        return
    table = Table(title=f"{mode} search in {index!r} ({took:.1f} ms)")
    for col in ("#", "id", "score", "per method", "text"):
        table.add_column(col)
    for h in hits:
        per = " ".join(f"{m}={s:.3f}" for m, s in h.scores.items() if m != mode)
        table.add_row(str(h.rank), h.id, f"{h.score:.4f}", per, h.text[:120].replace("\n", " "))
    console.print(table)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return float(statistics.quantiles(values, n=100, method="inclusive")[q - 1]) if len(values) > 1 else values[0]


def eval_retrieval(
    corpus: Annotated[Path, typer.Option("--corpus", help="BEIR corpus.jsonl.", exists=True, dir_okay=False)],
    queries: Annotated[Path, typer.Option("--queries", help="BEIR queries.jsonl.", exists=True, dir_okay=False)],
    qrels: Annotated[Path, typer.Option("--qrels", help="BEIR qrels TSV.", exists=True, dir_okay=False)],
    mode: ModeOpt = "hybrid",
    k: Annotated[int, typer.Option("-k", "--k", help="Cut-off of the headline metrics.")] = 10,
    index: Annotated[
        str | None, typer.Option("--index", help="Index name (default: keyed by corpus hash + embedder).")
    ] = None,
    embedder: EmbedderOpt = "minilm",
    backend: BackendOpt = None,
    fusion: FusionOpt = None,
    trace: Annotated[bool, typer.Option("--trace", help="Export a span per query to Phoenix.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Build (or reuse) the index of a BEIR corpus, run the judged queries, print the metrics."""
    from aiagents.retrieval import Retriever, get_embedder
    from aiagents.retrieval.embedders import embedder_key
    from aiagents.retrieval.evaluate import build_beir_index, evaluate_beir

    _check_mode(mode)
    if trace:
        from aiagents.tracing import setup as setup_tracing

        setup_tracing()
    emb = run_guarded(get_embedder, embedder)
    with _progress() as bar:
        task = bar.add_task("indexing", total=None)
        idx, index_seconds, reused = run_guarded(
            build_beir_index,
            corpus,
            emb,
            name=index,
            backend=backend,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
        if reused:
            bar.update(task, description=f"index {idx.name} reused", completed=1, total=1)
    try:
        retriever = run_guarded(Retriever, idx, emb, fusion=fusion)
        with _progress() as bar:
            task = bar.add_task(f"{mode} queries", total=None)
            metrics, result = run_guarded(
                evaluate_beir,
                retriever,
                queries,
                qrels,
                mode=mode,
                k=k,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    finally:
        idx.close()
    if not result.run:
        fail(f"{qrels}: no query with a relevant document")
    report: dict[str, Any] = {
        "mode": mode,
        f"ndcg@{k}": metrics[f"ndcg@{k}"],
        "recall@100": metrics["recall@100"],
        f"mrr@{k}": metrics[f"mrr@{k}"],
        f"hit@{k}": metrics[f"hit@{k}"],
        "queries": int(metrics["queries"]),
        "index_seconds": round(index_seconds, 3),
        "index_reused": reused,
        "query_p50_ms": round(_pct(result.total_ms, 50), 3),
        "query_p95_ms": round(_pct(result.total_ms, 95), 3),
        "search_p50_ms": round(_pct(result.search_ms, 50), 3),
        "search_p95_ms": round(_pct(result.search_ms, 95), 3),
        "index": idx.name,
        "documents": idx.info.get("documents"),
        "embedder": f"{embedder_key(emb)} ({type(emb).__name__})",
        "fusion": retriever.fusion.method if mode == "hybrid" else None,
        "metrics": metrics,
    }
    if as_json:
        print_json(report)
        return
    table = Table(title=f"{mode} on {qrels.name} ({report['queries']} queries)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in (f"ndcg@{k}", "recall@100", f"mrr@{k}", f"hit@{k}"):
        table.add_row(key, f"{report[key]:.4f}")
    table.add_row("index seconds" + (" (reused)" if reused else ""), f"{index_seconds:.1f}")
    table.add_row("query p50 / p95 ms", f"{report['query_p50_ms']:.2f} / {report['query_p95_ms']:.2f}")
    table.add_row("  without embedding", f"{report['search_p50_ms']:.2f} / {report['search_p95_ms']:.2f}")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add `search` to the root app."""
    app.command("search")(search)


def register_eval(eval_app: typer.Typer) -> None:
    """Add `retrieval` to the `eval` group."""
    eval_app.command("retrieval")(eval_retrieval)
