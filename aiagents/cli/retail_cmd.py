"""`aiagents retail replay|run`: the alias of `aiagents env replay|run retail`."""

from __future__ import annotations

from pathlib import Path

import typer

from aiagents.cli.env_cmd import replay_command, run_command

__all__ = ["register"]

DATA_HELP = "tau-bench retail folder (db/ and retail_tasks_*.jsonl)."


def _retail() -> object:
    from aiagents.tools.environment import load_environment

    return load_environment("retail")


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="The retail-shop environment (tau-bench retail); the same as `aiagents env ... retail`.",
        no_args_is_help=True,
    )
    app.add_typer(group, name="retail")

    @group.command("replay")
    def replay(
        data: Path = typer.Option(..., "--data", help=DATA_HELP),
        mode: str = typer.Option(
            "tools", "--mode", help="'tools': call the tools directly; 'agent': a scripted agent."
        ),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Replay every task's gold actions and count the tasks reaching reward 1, per file."""
        replay_command(_retail(), data, mode=mode, split=None, as_json=json_out)

    @group.command("run")
    def run(
        data: Path = typer.Option(..., "--data", help=DATA_HELP),
        model: str = typer.Option(..., "--model", help="Model name, e.g. 'openai:gpt-4.1-mini' or 'offline'."),
        user_model: str | None = typer.Option(None, "--user-model", help="A model simulating the user (multi-turn)."),
        k: int = typer.Option(1, "--k", min=1, help="Trials per task (pass^k)."),
        limit: int | None = typer.Option(None, "--limit", min=1, help="Run only the first N tasks."),
        split: str | None = typer.Option(None, "--split", help="Only this task file, e.g. 'dev'."),
        concurrency: int = typer.Option(1, "--concurrency", min=1, help="Runs at once."),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Run an agent (single-turn unless --user-model) on the tasks and score it."""
        run_command(
            _retail(), data, model=model, user_model=user_model, k=k, limit=limit, split=split,
            concurrency=concurrency, max_user_turns=10, as_json=json_out,
        )  # fmt: skip
