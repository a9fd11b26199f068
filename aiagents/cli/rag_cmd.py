"""`aiagents ask`: answer a question from an index with citations (RAG); the demo's RAG step."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.rule import Rule
from rich.table import Table

from aiagents.citations import citation_label
from aiagents.cli.demo_cmd import DEMO_STEPS, DemoContext
from aiagents.cli.output import console, note_model, out, print_json, run_guarded

__all__ = ["register", "DEMO_DOCS", "DEMO_INDEX"]

DEMO_DOCS = Path(__file__).resolve().parent.parent / "demo_data" / "docs"
DEMO_INDEX = "demo-docs"


def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    index: Annotated[str, typer.Option("--index", help="Index name (see `aiagents ingest`).")],
    mode: Annotated[str, typer.Option("--mode", help="bm25, dense or hybrid.")] = "hybrid",
    k: Annotated[int, typer.Option("-k", "--k", help="Passages given to the model.")] = 5,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model name (default: configured).")] = None,
    prompt_version: Annotated[str | None, typer.Option("--prompt-version", help="rag-answer version.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
) -> None:
    """Answer QUESTION from index NAME, citing the chunk ids used (traced: CHAIN > RETRIEVER + LLM)."""
    from aiagents.rag import RagPipeline
    from aiagents.retrieval import Retriever, get_embedder, open_index
    from aiagents.tracing import setup as setup_tracing

    model_name = note_model(model)
    setup_tracing()

    def build() -> RagPipeline:
        return RagPipeline(
            Retriever(open_index(index), get_embedder()),
            model=model_name,
            k=k,
            mode=mode,
            prompt_version=prompt_version,
        )

    pipeline = run_guarded(build)
    answer = run_guarded(lambda: asyncio.run(pipeline.ask(question)))
    if as_json:
        print_json(answer.to_json())
        return
    out.print(answer.answer)
    if answer.sources:
        out.print(f"[bold]sources:[/] {'; '.join(answer.sources)}")
    table = Table("cited", "source", "id", "score", "text", title=f"{len(answer.hits)} passages ({mode})")
    for hit in answer.hits:
        label = citation_label(hit.document_id or hit.id, hit.metadata, hit.heading_path)
        table.add_row("*" if hit.id in answer.citations else "", label, hit.id, f"{hit.score:.3f}", hit.text[:60])
    out.print(table)
    out.print(f"prompt {answer.prompt_name}@{answer.prompt_version}  model {answer.model}  trace {answer.trace_id}")


def step_rag(ctx: DemoContext) -> None:
    """RAG: ingest the shipped help-center corpus, search it three ways, answer with citations."""
    from aiagents.ingestion import ingest
    from aiagents.retrieval import Retriever, get_embedder, open_index

    console.print(Rule("2. RAG: ingest, hybrid search, cited answer"))
    report = ingest(DEMO_DOCS, DEMO_INDEX)
    out.print(
        f"ingested {DEMO_DOCS.name}/: {report.new} new, {report.changed} changed, {report.unchanged} unchanged, "
        f"{report.deleted} deleted -> index {DEMO_INDEX!r}"
    )
    ctx.notes["index"] = DEMO_INDEX
    retriever = Retriever(open_index(DEMO_INDEX), get_embedder())
    query = "how long until I get my money back after a return"
    table = Table("mode", "top hits (id and score)", title=f"search: {query!r}")
    for mode in ("bm25", "dense", "hybrid"):
        hits = retriever.search(query, k=3, mode=mode)  # type: ignore[arg-type]
        table.add_row(mode, "  ".join(f"{h.id} {h.score:.2f}" for h in hits))
    out.print(table)
    from aiagents.rag import RagPipeline

    pipeline = RagPipeline(retriever, model=ctx.model)
    formats = ", ".join(f"{n} {k}" for k, n in sorted(report.formats.items()))
    out.print(f"documents by format: {formats} (a PDF page, a slide, a sheet is a document)")
    # The second answer is on one page of the product manual (a PDF): its citation names the page.
    for question in ("How long does a refund take?", "What should I do if the blender motor stops?"):
        answer = asyncio.run(pipeline.ask(question, user_id="demo-user"))
        out.print(f"[bold]Q:[/] {question}\n[bold]A:[/] {answer.answer}\n[bold]cited:[/] {', '.join(answer.sources)}")
        ctx.notes.setdefault("rag_sources", []).append(answer.sources)
        if answer.trace_id:
            ctx.trace_ids.append(answer.trace_id)


def register(app: typer.Typer) -> None:
    app.command("ask")(ask)
    DEMO_STEPS.append(step_rag)
