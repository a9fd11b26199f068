"""`aiagents prompts list|show|diff|label|versions`."""

from __future__ import annotations

import typer
from rich.syntax import Syntax
from rich.table import Table

from aiagents.cli.output import console, mirror_to_phoenix, out, print_json, run_guarded
from aiagents.errors import AiAgentsError
from aiagents.prompts import LABELS, PromptRegistry
from aiagents.settings import get_settings


def served_json(registry: PromptRegistry, name: str) -> dict[str, str | None]:
    """`{"version", "from"}`: what serves prompt `name` (`from` is the label, or 'file'); an error, as `from`, when
    its label points at a version no longer known (the other prompts are still listed)."""
    try:
        served, _model, source = registry.served(name)
    except AiAgentsError as exc:
        return {"version": None, "from": f"error: {exc}"}
    return {"version": served.version, "from": source}


def served_cell(served: dict[str, str | None]) -> str:
    """The table cell of `served_json`: 'file', or the label and its version."""
    return "file" if served["from"] == "file" else f"{served['from']} {served['version'] or ''}".strip()


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Versioned prompts: list, show, versions, diff, label, promote, rollback.", no_args_is_help=True
    )
    app.add_typer(group, name="prompts")

    @group.command("list")
    def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """List the prompts with their current version and labels."""

        def rows() -> tuple[list[dict[str, object]], dict[str, str]]:
            registry = PromptRegistry()
            result = []
            for name in registry.names():
                prompt = registry.current(name)
                serving = served_json(registry, name)
                result.append(
                    {
                        "name": name,
                        "version": prompt.version,
                        "served": serving,
                        "labels": registry.labels(name),
                        "variables": list(prompt.variables),
                        "output": prompt.output,
                        "description": prompt.description,
                        "path": str(prompt.path),
                    }
                )
            return result, {str(path): error for path, error in registry.broken.items()}

        data, broken = run_guarded(rows)
        if as_json:
            print_json({"prompts": data, "broken": broken})
            return
        table = Table("prompt", "file version", "served", "labels", "description")
        for row in data:
            labels = " ".join(f"{k}={v}" for k, v in row["labels"].items())  # type: ignore[union-attr]
            where = served_cell(row["served"])  # type: ignore[arg-type]
            table.add_row(str(row["name"]), str(row["version"]), where, labels, str(row["description"] or ""))
        out.print(table)
        for error in broken.values():
            console.print(f"[red]broken prompt file[/] {error}")
        label = get_settings().serving_label
        console.print(f"served: what the service and Task(name) run (the {label!r} label, else the file).")

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
        """Every known version of a prompt (file, registry snapshots, git history) and the label history."""
        registry = PromptRegistry()
        data = run_guarded(registry.versions, name)
        history = registry.history(name)
        served, _model, source = run_guarded(registry.served, name)
        if as_json:
            print_json(
                {
                    "name": name,
                    "versions": [v.__dict__ for v in data],
                    "served": {"version": served.version, "from": source},
                    "history": history,
                }
            )
            return
        table = Table("version", "origin", "labels", "seen")
        for v in data:
            table.add_row(v.version, v.origin, ", ".join(v.labels or []), v.seen)
        out.print(table)
        if history:
            moves = Table("when", "label", "to", "from", "action", "by", title="label history")
            for h in history:
                to = h["version"] + (f" ({h['model']})" if h.get("model") else "")
                moves.add_row(h["at"], h["label"], to, h.get("previous") or "", h["action"], h.get("by") or "")
            out.print(moves)
        out.print(f"served: {served.version} ({'the working file' if source == 'file' else 'label ' + source})")

    @group.command("diff")
    def diff(name: str, old: str, new: str, as_json: bool = typer.Option(False, "--json")) -> None:
        """Unified diff between two versions of a prompt."""
        text = run_guarded(PromptRegistry().diff, name, old, new)
        if as_json:
            print_json({"name": name, "old": old, "new": new, "diff": text})
            return
        out.print(Syntax(text or "(no difference)\n", "diff"))

    @group.command("label")
    def label(
        name: str,
        version: str,
        label: str = typer.Argument(..., help=f"e.g. {', '.join(LABELS)}"),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Point LABEL at VERSION of prompt NAME."""
        full = run_guarded(PromptRegistry().set_label, name, label, version)
        mirror_to_phoenix(name)
        if as_json:
            print_json({"name": name, "label": label, "version": full})
            return
        out.print(f"{name}: {label} -> {full}")

    @group.command("promote")
    def promote(
        name: str,
        version: str,
        model: str | None = typer.Option(None, "--model", help="A model to serve with it (default: the service's)."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Point the serving label (production) at VERSION; running services pick it up within seconds."""
        entry = run_guarded(PromptRegistry().promote, name, version, model=model)
        mirror_to_phoenix(name)
        if as_json:
            print_json(entry)
            return
        out.print(f"{name}: {entry['label']} -> {entry['version']} (was {entry['previous'] or 'unset'})")

    @group.command("rollback")
    def rollback(name: str, as_json: bool = typer.Option(False, "--json")) -> None:
        """Move the serving label (production) back to the version it pointed at before its last move."""
        entry = run_guarded(PromptRegistry().rollback, name)
        mirror_to_phoenix(name)
        if as_json:
            print_json(entry)
            return
        out.print(f"{name}: {entry['label']} -> {entry['version']} (rolled back from {entry['previous']})")
