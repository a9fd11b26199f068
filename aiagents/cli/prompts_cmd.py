"""`aiagents prompts list|show|diff|label|versions`."""

from __future__ import annotations

import typer
from rich.syntax import Syntax
from rich.table import Table

from aiagents.cli.output import out, print_json, run_guarded
from aiagents.prompts import LABELS, PromptRegistry


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Versioned prompts: list, show, versions, diff, label.", no_args_is_help=True)
    app.add_typer(group, name="prompts")

    @group.command("list")
    def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """List the prompts with their current version and labels."""

        def rows() -> list[dict[str, object]]:
            registry = PromptRegistry()
            result = []
            for name in registry.names():
                prompt = registry.current(name)
                result.append(
                    {
                        "name": name,
                        "version": prompt.version,
                        "labels": registry.labels(name),
                        "variables": list(prompt.variables),
                        "output": prompt.output,
                        "description": prompt.description,
                        "path": str(prompt.path),
                    }
                )
            return result

        data = run_guarded(rows)
        if as_json:
            print_json({"prompts": data})
            return
        for row in data:
            labels = " ".join(f"{k}={v}" for k, v in row["labels"].items())  # type: ignore[union-attr]
            out.print(f"{row['name']}  {row['version']}  {labels}  {row['description']}")

    @group.command("show")
    def show(
        name: str,
        version: str | None = typer.Option(None, "--version", "-v", help="A version (prefix) to show."),
        label: str | None = typer.Option(None, "--label", "-l", help=f"A label to show ({', '.join(LABELS)})."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Show a prompt file (the current version unless --version or --label)."""
        prompt = run_guarded(PromptRegistry().get, name, version=version, label=label)
        if as_json:
            print_json(
                {
                    "name": prompt.name,
                    "version": prompt.version,
                    "variables": {k: v.model_dump() for k, v in prompt.variables.items()},
                    "output": prompt.output,
                    "model": prompt.model,
                    "parameters": prompt.parameters,
                    "system": prompt.system,
                    "template": prompt.template,
                    "source": prompt.source,
                }
            )
            return
        out.print(f"[bold]{prompt.name}[/] version {prompt.version}")
        out.print(Syntax(prompt.source, "markdown"))

    @group.command("versions")
    def versions(name: str, as_json: bool = typer.Option(False, "--json")) -> None:
        """List every known version of a prompt (file, registry snapshots, git history)."""
        data = run_guarded(PromptRegistry().versions, name)
        if as_json:
            print_json({"name": name, "versions": [v.__dict__ for v in data]})
            return
        table = Table("version", "origin", "labels", "seen")
        for v in data:
            table.add_row(v.version, v.origin, ", ".join(v.labels or []), v.seen)
        out.print(table)

    @group.command("diff")
    def diff(name: str, old: str, new: str) -> None:
        """Unified diff between two versions of a prompt."""
        text = run_guarded(PromptRegistry().diff, name, old, new)
        out.print(Syntax(text or "(no difference)\n", "diff"))

    @group.command("label")
    def label(name: str, version: str, label: str = typer.Argument(..., help=f"e.g. {', '.join(LABELS)}")) -> None:
        """Point LABEL at VERSION of prompt NAME."""
        full = run_guarded(PromptRegistry().set_label, name, label, version)
        out.print(f"{name}: {label} -> {full}")
