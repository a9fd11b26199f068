"""`aiagents ingest SOURCE --index NAME`: bring an index in line with a folder, record file or corpus."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from aiagents.cli.output import console, print_json, run_guarded


def register(app: typer.Typer) -> None:
    @app.command("ingest")
    def ingest_cmd(
        source: Annotated[
            str,
            typer.Argument(
                help="A folder (.md .mdx .txt .html .pdf .docx .pptx .xlsx), a .jsonl/.json/.csv file, a BEIR "
                "corpus, or a web page's URL."
            ),
        ],
        index: Annotated[str, typer.Option("--index", "-i", help="Index name (created when missing).")],
        kind: Annotated[str | None, typer.Option(help="Override detection: folder, records or beir.")] = None,
        chunker: Annotated[str, typer.Option(help="markdown (sections), sentences or window.")] = "markdown",
        size: Annotated[int | None, typer.Option(help="Maximum words per chunk.")] = None,
        overlap: Annotated[int | None, typer.Option(help="Words shared by consecutive chunks.")] = None,
        embedder: Annotated[
            str, typer.Option(help="minilm (fastest verified: int8 ONNX), minilm-int8, minilm-fp32 or minilm-st.")
        ] = "minilm",
        text_field: Annotated[
            list[str] | None, typer.Option("--text-field", help="Records: field(s) holding the text (repeatable).")
        ] = None,
        id_field: Annotated[str | None, typer.Option(help="Records: field holding the id.")] = None,
        metadata_field: Annotated[
            list[str] | None, typer.Option("--metadata-field", help="Records: fields kept as metadata (repeatable).")
        ] = None,
        backend: Annotated[str | None, typer.Option(help="Index backend: edge (default) or qdrant.")] = None,
        no_delete: Annotated[
            bool, typer.Option("--no-delete", help="Keep indexed documents that are missing from the source.")
        ] = False,
        no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not use the embedding cache.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
    ) -> None:
        """Ingest SOURCE into index NAME: only new and changed documents are embedded; removed ones are deleted."""
        from aiagents.ingestion import get_chunker, ingest, open_source

        options: dict[str, Any] = {}
        if text_field:
            options["text_fields"] = tuple(text_field)
        if id_field:
            options["id_field"] = id_field
        if metadata_field:
            options["metadata_fields"] = list(metadata_field)
        params = {k: v for k, v in (("size", size), ("overlap", overlap)) if v is not None}
        src = run_guarded(open_source, source, kind=kind, **options)
        chunk_fn = run_guarded(get_chunker, chunker, **params)
        report = run_guarded(
            ingest,
            src,
            index,
            chunker=chunk_fn,
            embedder=embedder,
            backend=backend,
            delete_missing=not no_delete,
            use_cache=not no_cache,
            progress=True,
        )
        if as_json:
            print_json(report.to_dict())
            return
        table = Table(title=f"ingest {report.source} -> {report.index}", show_header=False)
        rows = [
            ("read", report.read),
            ("by format", ", ".join(f"{k} {v}" for k, v in sorted(report.formats.items())) or "-"),
            ("new", report.new),
            ("changed", report.changed),
            ("unchanged", report.unchanged),
            ("deleted", report.deleted),
            ("skipped", len(report.skipped)),
            ("failed", len(report.failed)),
            ("chunks written", report.chunks),
            ("embedded / from cache", f"{report.embedded} / {report.cached}"),
            ("chunker", report.chunker),
            ("embedder", report.embedder),
            ("seconds", f"{report.seconds:.2f}"),
            ("docs/s, chunks/s", f"{report.docs_per_second:.1f}, {report.chunks_per_second:.1f}"),
        ]
        for key, value in rows:
            table.add_row(key, str(value))
        console.print(table)
        if report.rebuilt:
            console.print(f"[yellow]re-indexed everything:[/] {report.rebuilt}")
        if report.deletions_skipped:
            console.print("[yellow]the source was not read to the end: nothing was deleted[/]")
        for label, problems in (("skipped", report.skipped), ("failed", report.failed)):
            for p in problems[:50]:
                console.print(f"[yellow]{label}[/] {p}")
            if len(problems) > 50:
                console.print(f"[yellow]... and {len(problems) - 50} more {label}[/] (use --json for all)")
