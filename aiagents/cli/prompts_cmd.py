"""`aiagents prompts ...` (placeholder until the prompt registry lands)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Versioned prompts: list, show, diff.", no_args_is_help=True)
    app.add_typer(group, name="prompts")

    @group.command("list")
    def list_() -> None:
        """List prompts."""
