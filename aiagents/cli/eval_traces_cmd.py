"""`aiagents eval traces`: re-score stored traffic (Phoenix traces, or the log store) with an online-eval suite."""

from __future__ import annotations

import typer
from rich.table import Table

from aiagents.cli.output import console, out, print_json, run_guarded

__all__ = ["register"]


def register(eval_app: typer.Typer) -> None:
    @eval_app.command("traces")
    def traces(
        project: str | None = typer.Option(None, "--project", help="Phoenix project (default: configured)."),
        since: str | None = typer.Option(None, "--since", help="30m, 2h, 7d, an ISO date, or epoch seconds."),
        suite: str = typer.Option("default", "--suite", help="An online-eval suite name or YAML file."),
        no_annotate: bool = typer.Option(False, "--no-annotate", help="Do not write scores back to Phoenix."),
        offline: bool = typer.Option(False, "--log-store", help="Read the log store, not Phoenix."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Rebuild each trace since --since, score it with the suite (no model call of the feature), write scores
        to the log store and back to Phoenix as span annotations."""
        from pathlib import Path

        from aiagents.cli.logs_cmd import parse_since
        from aiagents.logstore import open_store
        from aiagents.online import load_suite, rescore
        from aiagents.settings import get_settings
        from aiagents.tracing import phoenix_url

        evaluators = run_guarded(load_suite, suite)
        store = open_store()
        try:
            result = run_guarded(
                rescore, store, evaluators, project=project or get_settings().phoenix_project,
                since=parse_since(since), phoenix_url=None if offline else phoenix_url(),
                suite_name=Path(suite).stem, annotate=not no_annotate,
            )  # fmt: skip
        finally:
            store.close()
        if as_json:
            print_json(result.to_json())
            return
        if result.note:
            console.print(f"[yellow]{result.note}[/]")
        table = Table("score", "mean", title=f"{result.traces} traces from {result.source}, {result.scores} scores")
        for name, mean in result.means.items():
            table.add_row(name, f"{mean:.3f}")
        out.print(table)
        out.print(f"{result.annotations} scores written to Phoenix as span annotations")
