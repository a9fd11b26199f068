"""Shared output helpers for the CLI: rich on stderr for people, one JSON object on stdout for `--json`."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console

from aiagents.errors import AiAgentsError
from aiagents.models import OFFLINE, default_model_name

__all__ = ["console", "out", "print_json", "fail", "note_model", "run_guarded"]

console = Console(stderr=True)
"""Progress, tables and notes go to stderr so stdout stays clean for `--json`."""
out = Console()
_noted = False


def print_json(data: Any) -> None:
    """Print exactly one JSON object on stdout."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = 1) -> NoReturn:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def note_model(requested: str | None) -> str:
    """The model a command will use; says once per run when it falls back to the offline baseline."""
    global _noted
    name = requested or default_model_name()
    if name == OFFLINE and requested is None and not _noted:
        console.print(
            "[yellow]No model API key configured: using the offline baseline model "
            "(set OPENAI_API_KEY / ANTHROPIC_API_KEY or pass --model).[/]"
        )
        _noted = True
    return name


def run_guarded(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run `fn`, turning the framework's errors into a clear message and exit code 1."""
    try:
        return fn(*args, **kwargs)
    except AiAgentsError as exc:
        fail(str(exc))
