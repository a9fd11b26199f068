"""The eval runs kept under the data folder, and how a command names one.

A run is named by its folder (`aiagents eval runs list` shows the ids), by a unique prefix of it, by a path,
or by a selector `DATASET@VERSION` (the newest run of that dataset whose prompt version starts with VERSION;
`DATASET` alone: its newest run) or `DATASET@MODEL`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiagents.evals.runner.results import META_FILE, SUMMARY_FILE
from aiagents.evals.runner.run import runs_dir

from aiagents.errors import UserError

__all__ = ["RunEntry", "list_runs", "resolve_run"]


@dataclass(kw_only=True)
class RunEntry:
    """One kept run: its id (folder name) and what identifies it."""

    id: str
    path: Path
    dataset: str = ""
    dataset_version: str = ""
    model: str | None = None
    prompt_versions: dict[str, str] = field(default_factory=dict)
    started_at: str = ""
    finished: bool = False
    cases: int = 0
    errors: int = 0
    metrics: dict[str, float | None] = field(default_factory=dict)
    """Each metric's mean."""

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "path": str(self.path)}


def _entry(folder: Path) -> RunEntry | None:
    meta_path, summary_path = folder / META_FILE, folder / SUMMARY_FILE
    if not meta_path.exists() and not summary_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    except (OSError, json.JSONDecodeError):
        return None
    meta = {**meta, **summary.get("meta", {})}
    return RunEntry(
        id=folder.name, path=folder, dataset=meta.get("dataset", ""), dataset_version=meta.get("dataset_version", ""),
        model=meta.get("model"), prompt_versions=meta.get("prompt_versions") or {},
        started_at=meta.get("started_at", ""), finished=bool(summary), cases=summary.get("cases", 0),
        errors=summary.get("errors", 0),
        metrics={k: v.get("mean") for k, v in (summary.get("metrics") or {}).items() if isinstance(v, dict)},
    )  # fmt: skip


def list_runs(*, dataset: str | None = None, folder: Path | None = None) -> list[RunEntry]:
    """Kept runs, newest first (of one dataset when given)."""
    base = folder or runs_dir()
    entries = [e for p in base.iterdir() if p.is_dir() and (e := _entry(p))] if base.is_dir() else []
    entries = [e for e in entries if dataset is None or e.dataset == dataset]
    return sorted(entries, key=lambda e: e.started_at, reverse=True)


def resolve_run(ref: str | Path) -> Path:
    """The folder a run reference names (see the module docstring); a `UserError` says what is known."""
    path = Path(ref)
    if path.exists():
        return path
    text = str(ref)
    runs = list_runs()
    exact = [r for r in runs if r.id == text] or [r for r in runs if r.id.startswith(text)]
    if len(exact) == 1:
        return exact[0].path
    dataset, _, what = text.partition("@")
    chosen = [
        r for r in runs
        if r.dataset == dataset and (not what or any(v.startswith(what) for v in r.prompt_versions.values())
                                     or (r.model or "") == what)
    ]  # fmt: skip
    if chosen:
        return chosen[0].path  # newest first
    known = ", ".join(r.id for r in runs[:8]) or "none yet"
    raise UserError(
        f"no eval run {text!r}: give a run id or prefix (`aiagents eval runs list`), a folder, or DATASET@VERSION "
        f"(known: {known})"
    )
