"""`aiagents init [DIR]`: a new project's skeleton (a prompt and its output model, an eval set, a prompt test)."""

from __future__ import annotations

from pathlib import Path

import typer

from aiagents.cli.output import console, fail, out, print_json

__all__ = ["TEMPLATE_DIR", "create_project", "register"]

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "project_template"
# Dotfiles are kept without their dot in the package (package-data globs and some tools skip dotfiles).
_RENAMES = {"env.example": ".env.example", "gitignore": ".gitignore"}


def create_project(folder: Path, *, force: bool = False) -> list[Path]:
    """Copy the skeleton into `folder` (created if needed); returns the files written.

    Refuses to overwrite an existing file unless `force`, and names the files in the way.
    """
    sources = sorted(p for p in TEMPLATE_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    targets = {src: folder / _RENAMES.get(src.name, str(src.relative_to(TEMPLATE_DIR))) for src in sources}
    clashes = [str(t) for t in targets.values() if t.exists()]
    if clashes and not force:
        raise FileExistsError(clashes)
    written = []
    for src, target in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        text = src.read_text(encoding="utf-8")
        if src.name == "README.md":
            text = text.replace("{name}", folder.resolve().name)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init(
        folder: Path = typer.Argument(Path("."), help="Folder of the new project (created if missing)."),
        force: bool = typer.Option(False, "--force", help="Overwrite files that already exist."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Start a project: a prompt with its output model, an eval set, a prompt test that runs offline."""
        try:
            written = create_project(folder, force=force)
        except FileExistsError as exc:
            fail(f"{len(exc.args[0])} files exist already ({', '.join(exc.args[0][:3])}...); use --force to overwrite")
        if as_json:
            print_json({"folder": str(folder.resolve()), "files": [str(p.relative_to(folder)) for p in written]})
            return
        for path in written:
            out.print(f"  created {path}")
        cd = "" if folder.resolve() == Path.cwd().resolve() else f"cd {folder} && "
        console.print(f"\nNext: [bold]{cd}pytest -q[/] (offline), then read {folder / 'README.md'}.")
