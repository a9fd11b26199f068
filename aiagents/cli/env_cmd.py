"""`aiagents env list|replay|run`: agent environments (tau-bench style) of any domain, built-in or your own.

ENV is a built-in name (`retail`) or `module:attribute` of your own `Environment`, imported from the working
folder. `aiagents retail replay|run` stays as an alias of `aiagents env replay|run retail`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer
from rich.progress import Progress
from rich.table import Table

from aiagents.cli.output import console, fail, out, print_json
from aiagents.errors import AiAgentsError, UserError

__all__ = ["register", "replay_command", "run_command"]


def _load(spec: str) -> Any:
    from aiagents.tools.environment import load_environment

    try:
        return load_environment(spec)
    except AiAgentsError as e:
        fail(str(e), 2)


def replay_command(env: Any, data: Path, *, mode: str, split: str | None, as_json: bool) -> None:
    """Replay every task's gold actions and print the counts (per file) and the failures."""
    from aiagents.tools.environment import replay_gold

    try:
        report = asyncio.run(replay_gold(env, data, mode=mode, split=split))
    except UserError as e:
        fail(str(e), 2)
    if as_json:
        print_json(report.to_json())
        return
    table = Table("file", "tasks", "reward 1", "outputs need a model", title=f"{env.name}: gold replay ({report.mode})")
    for name, counts in report.files.items():
        table.add_row(name, str(counts["tasks"]), str(counts["reward_1"]), str(counts["outputs_need_model"]))
    table.add_row("total", str(report.tasks), str(report.reward_1), str(len(report.outputs_need_model)), style="bold")
    out.print(table)
    out.print(
        f"{report.reward_1}/{report.tasks} tasks reach the gold state in {report.seconds:.2f} s; "
        f"{report.gold_action_errors} of {report.gold_actions} gold actions were refused by the tools"
    )
    for task_id, outputs in report.outputs_need_model.items():
        out.print(f"NEEDS A MODEL {task_id}: no tool result holds {outputs} (a model must compute and say it)")
    for failure in report.failures:
        out.print(f"FAIL {failure.file} {failure.task_id}: {failure.reason}")


def _resolve(model: str) -> tuple[Any, str]:
    from aiagents.models import resolve_model

    resolved = resolve_model(model)
    return resolved.model, resolved.name


def run_command(
    env: Any,
    data: Path,
    *,
    model: str,
    user_model: str | None,
    k: int,
    limit: int | None,
    split: str | None,
    concurrency: int,
    max_user_turns: int,
    as_json: bool,
) -> None:
    """Run an agent on the tasks (k trials each), score every run and print the rewards and pass^k."""
    from aiagents.tools.environment import ModelUser, pass_hat_k, run_tasks

    try:
        tasks = env.tasks(data, split)[:limit]
        loaded = env.load(data)
        resolved, model_name = _resolve(model)
        user = None
        user_name = None
        if user_model is not None:
            user_resolved, user_name = _resolve(user_model)
            user = ModelUser(user_resolved)
    except AiAgentsError as e:
        fail(str(e), 2)
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task(f"{env.name} tasks ({model_name})", total=len(tasks) * k)
        runs = asyncio.run(
            run_tasks(
                env, tasks, data=loaded, model=resolved, user=user, k=k, concurrency=concurrency,
                max_user_turns=max_user_turns, on_done=lambda _run: progress.advance(bar),
            )
        )  # fmt: skip
    rewarded = sum(r.reward == 1.0 for r in runs)
    outcomes: dict[str, list[bool]] = {}
    for r in runs:
        outcomes.setdefault(r.task_id, []).append(r.reward == 1.0)
    summary = {
        "environment": env.name,
        "model": model_name,
        "user_model": user_name,
        "turns": "multi" if user is not None else "single",
        "k": k,
        "tasks": len(tasks),
        "runs": len(runs),
        "reward_1": rewarded,
        "average_reward": round(rewarded / len(runs), 4) if runs else 0.0,
        "pass_hat_k": {str(i): round(pass_hat_k(outcomes, i), 4) for i in range(1, k + 1)} if runs else {},
        "errors": sum(r.error is not None for r in runs),
        "policy_version": runs[0].policy_version if runs else None,
        "results": [r.to_json() for r in runs],
    }
    if as_json:
        print_json(summary)
        return
    table = Table(title=f"{env.name}: {model_name}")
    table.add_column("task", no_wrap=True)
    for column in ("trial", "reward", "calls", *(("user turns",) if user is not None else ())):
        table.add_column(column, justify="right")
    table.add_column("state (first difference)", overflow="fold")
    table.add_column("error", overflow="fold")
    for r in runs:
        state = "match" if r.score.state_match else (r.score.state_diff or r.score.state_differences)[0]
        turns = (str(len(r.user_messages)),) if user is not None else ()
        table.add_row(
            r.task_id, str(r.trial), f"{r.reward:.0f}", str(len(r.tool_calls)), *turns, state, (r.error or "")[:80]
        )
    out.print(table)
    passes = ", ".join(f"pass^{i} {v:.3f}" for i, v in summary["pass_hat_k"].items())
    out.print(f"reward 1 on {rewarded}/{len(runs)} runs (average reward {summary['average_reward']}); {passes}")


DATA_HELP = "The environment's data folder (tables under db/, task files)."


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Agent environments: list them, replay gold actions, run and score agents.", no_args_is_help=True
    )
    app.add_typer(group, name="env")

    @group.command("list")
    def list_(as_json: bool = typer.Option(False, "--json")) -> None:
        """The built-in environments (yours are named module:attribute)."""
        from aiagents.tools.environment import builtin_environments

        envs = builtin_environments()
        rows = [
            {"name": e.name, "tables": list(e.tables), "task_files": e.task_files, "policy_version": e.policy_version,
             "description": e.description}
            for e in envs
        ]  # fmt: skip
        if as_json:
            print_json({"environments": rows})
            return
        table = Table("name", "tables", "task files", "policy", "description", title="environments")
        for r in rows:
            table.add_row(
                r["name"], ", ".join(r["tables"]) or "(all)", r["task_files"], r["policy_version"], r["description"]
            )
        out.print(table)
        out.print("Your own: `aiagents env replay my_module:MY_ENV --data DIR` (an Environment in my_module.py).")

    @group.command("replay")
    def replay(
        env: str = typer.Argument(..., help="retail, or module:attribute of your own Environment."),
        data: Path = typer.Option(..., "--data", help=DATA_HELP),
        mode: str = typer.Option(
            "tools", "--mode", help="'tools': call the tools directly; 'agent': a scripted agent."
        ),
        split: str | None = typer.Option(None, "--split", help="Only this task file, e.g. 'dev'."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Replay every task's gold actions: does each reach the gold state (and say its outputs)?"""
        replay_command(_load(env), data, mode=mode, split=split, as_json=as_json)

    @group.command("run")
    def run(
        env: str = typer.Argument(..., help="retail, or module:attribute of your own Environment."),
        data: Path = typer.Option(..., "--data", help=DATA_HELP),
        model: str = typer.Option(..., "--model", help="The agent's model, e.g. 'openai:gpt-4.1-mini' or 'offline'."),
        user_model: str | None = typer.Option(
            None, "--user-model", help="A model simulating the user (multi-turn); without it, single-turn."
        ),
        k: int = typer.Option(1, "--k", min=1, help="Trials per task (pass^1..pass^k in the report)."),
        limit: int | None = typer.Option(None, "--limit", min=1, help="Run only the first N tasks."),
        split: str | None = typer.Option(None, "--split", help="Only this task file, e.g. 'dev'."),
        concurrency: int = typer.Option(1, "--concurrency", min=1, help="Runs at once."),
        max_user_turns: int = typer.Option(10, "--max-user-turns", min=1, help="Turn limit of a conversation."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Run an agent on the tasks, k trials each, and score every run (tau-bench's reward, pass^k)."""
        run_command(
            _load(env), data, model=model, user_model=user_model, k=k, limit=limit, split=split,
            concurrency=concurrency, max_user_turns=max_user_turns, as_json=as_json,
        )  # fmt: skip
