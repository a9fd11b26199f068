"""`aiagents retail ...`: the tau-bench retail environment (gold replay, agent runs)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table as RichTable

from aiagents.errors import UserError

_err = Console(stderr=True)


def _resolve(model: str) -> tuple[Any, str]:
    """The pydantic-ai model for ``model`` and its display name (via `aiagents.models` when present)."""
    try:
        from aiagents.models import resolve_model
    except ImportError:  # the model layer not installed yet: pydantic-ai resolves the name itself
        return model, model
    resolved = resolve_model(model)
    return resolved.model, resolved.name


def _fail(error: Exception) -> None:
    _err.print(f"[red]error:[/red] {error}")
    raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="The retail-shop environment (tau-bench retail): replay gold actions, run and score agents.",
        no_args_is_help=True,
    )
    app.add_typer(group, name="retail")

    @group.command("replay")
    def replay(
        data: Path = typer.Option(..., "--data", help="tau-bench retail folder (db/ and retail_tasks_*.jsonl)."),
        mode: str = typer.Option(
            "tools",
            "--mode",
            help="'tools': call the tools directly; 'agent': through a scripted pydantic-ai agent.",
        ),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Replay every task's gold actions and count the tasks reaching reward 1, per file."""
        from aiagents.tools.retail import replay_gold

        if mode not in ("tools", "agent"):
            _fail(UserError(f"--mode must be 'tools' or 'agent', not {mode!r}"))
        try:
            report = asyncio.run(replay_gold(data, mode=mode))  # type: ignore[arg-type]
        except UserError as e:
            _fail(e)
        if json_out:
            print(json.dumps(report.to_json()))
            return
        table = RichTable(title=f"gold replay ({report.mode})")
        for column in ("file", "tasks", "reward 1"):
            table.add_column(column)
        for name, counts in report.files.items():
            table.add_row(name, str(counts["tasks"]), str(counts["reward_1"]))
        table.add_row("total", str(report.tasks), str(report.reward_1), style="bold")
        Console().print(table)
        print(
            f"{report.reward_1}/{report.tasks} tasks reach reward 1 in {report.seconds:.2f} s; "
            f"{report.gold_action_errors} of {report.gold_actions} gold actions were refused by the tools"
        )
        for failure in report.failures:
            print(f"FAIL {failure.file} {failure.task_id}: {failure.reason}")

    @group.command("run")
    def run(
        data: Path = typer.Option(..., "--data", help="tau-bench retail folder (db/ and retail_tasks_*.jsonl)."),
        model: str = typer.Option(..., "--model", help="Model name, e.g. 'openai:gpt-4.1-mini' or 'offline'."),
        limit: int | None = typer.Option(None, "--limit", min=1, help="Run only the first N tasks."),
        split: str | None = typer.Option(
            None, "--split", help="Only this task file, e.g. 'dev' for retail_tasks_dev.jsonl."
        ),
        concurrency: int = typer.Option(1, "--concurrency", min=1, help="Tasks run at once."),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Run an agent (single-turn: the instruction is the user's message) on the tasks and score it."""
        from aiagents.tools.retail import load_retail_data, load_tasks, run_tasks, task_files

        try:
            files = task_files(data)
            if split is not None:
                files = [f for f in files if f.stem == f"retail_tasks_{split}"]
                if not files:
                    raise UserError(f"{data}: no retail_tasks_{split}.jsonl")
            tasks = [task for path in files for task in load_tasks(path)][:limit]
            retail_data = load_retail_data(data)
            resolved, model_name = _resolve(model)
        except UserError as e:
            _fail(e)
        with Progress(console=_err, transient=True) as progress:
            bar = progress.add_task(f"retail tasks ({model_name})", total=len(tasks))
            runs = asyncio.run(
                run_tasks(
                    tasks,
                    data=retail_data,
                    model=resolved,
                    concurrency=concurrency,
                    on_done=lambda _run: progress.advance(bar),
                )
            )
        rewarded = sum(r.reward == 1.0 for r in runs)
        summary = {
            "model": model_name,
            "tasks": len(runs),
            "reward_1": rewarded,
            "average_reward": round(rewarded / len(runs), 4) if runs else 0.0,
            "errors": sum(r.error is not None for r in runs),
            "policy_version": runs[0].policy_version if runs else None,
            "results": [r.to_json() for r in runs],
        }
        if json_out:
            print(json.dumps(summary))
            return
        table = RichTable(title=f"retail run: {model_name}")
        for column in ("task", "reward", "tool calls", "state", "error"):
            table.add_column(column)
        for r in runs:
            state = "match" if r.score.state_match else ", ".join(r.score.state_differences)[:60]
            table.add_row(r.task_id, f"{r.reward:.0f}", str(len(r.tool_calls)), state, (r.error or "")[:60])
        Console().print(table)
        print(f"reward 1 on {rewarded}/{len(runs)} tasks (average reward {summary['average_reward']})")
