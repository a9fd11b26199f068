"""The `aiagents` command: one module per command group, wired together here."""

from __future__ import annotations

import typer

from aiagents.cli import (
    ab_cmd,
    agent_cmd,
    annotate_cmd,
    demo_cmd,
    env_cmd,
    eval_cmd,
    ingest_cmd,
    init_cmd,
    logs_cmd,
    prompts_cmd,
    rag_cmd,
    retail_cmd,
    retrieval_cmd,
    serve_cmd,
    task_cmd,
    tracing_cmd,
)

__all__ = ["app", "main"]

app = typer.Typer(
    name="aiagents",
    help="Engineer LLM features: typed prompt calls, RAG, agents, evals, traced into Phoenix.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# Each command-group module exposes `register(app)`; add one line per group.
init_cmd.register(app)
prompts_cmd.register(app)
task_cmd.register(app)
tracing_cmd.register(app)
demo_cmd.register(app)
env_cmd.register(app)
retail_cmd.register(app)
retrieval_cmd.register(app)
rag_cmd.register(app)
agent_cmd.register(app)
ingest_cmd.register(app)
eval_cmd.register(app)
serve_cmd.register(app)
logs_cmd.register(app)
ab_cmd.register(app)
annotate_cmd.register(app)


def main() -> None:
    import sys

    from aiagents.cli import output

    output.json_errors = "--json" in sys.argv[1:]
    app()
