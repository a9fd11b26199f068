"""The demo's own data folder: `aiagents demo` never writes into the user's data.

The demo runs with `<data_dir>/demo` as its data folder, on files and SQLite and the embedded index (never the
user's shared database or Qdrant server), and traces into its own Phoenix project. The user's service,
dashboard, reports, labels and datasets never see its simulated traffic or its experiment.

While the user has no traffic of their own, the commands that read traffic (`logs`, `ab report|list`,
`annotate`) show the demo's folder instead and say so on stderr: the first thing a new user types after the
demo (`aiagents ab report demo`) shows the demo's results. Once the user's own log has a request, the demo's
folder is never read again unless asked for (`AIAGENTS_DATA_DIR=<data_dir>/demo`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiagents.cli.output import console
from aiagents.settings import get_settings, reset_settings

__all__ = ["DEMO_FOLDER", "demo_data_dir", "demo_space", "read_demo_data_unless_yours"]

DEMO_FOLDER = "demo"
DEMO_PROJECT_SUFFIX = "-demo"
_DATA_DIR = "AIAGENTS_DATA_DIR"
_PROJECT = "AIAGENTS_PHOENIX_PROJECT"
_SHARED = ("AIAGENTS_DATABASE_URL", "AIAGENTS_QDRANT_URL", "AIAGENTS_QDRANT_API_KEY", "AIAGENTS_SERVING_LABEL")
"""Settings that point at the user's shared state (or choose what is served): the demo runs without them."""


def demo_data_dir() -> Path:
    """Where the demo keeps its data: `<data_dir>/demo` of the user's data folder."""
    return (get_settings().data_dir / DEMO_FOLDER).resolve()


def _switch_to(folder: Path, project: str) -> dict[str, str | None]:
    saved = {k: os.environ.get(k) for k in (_DATA_DIR, _PROJECT, *_SHARED)}
    os.environ[_DATA_DIR] = str(folder)
    os.environ[_PROJECT] = project
    for key in _SHARED:
        os.environ.pop(key, None)
    reset_settings()
    return saved


def _restore(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    reset_settings()


@contextmanager
def demo_space() -> Iterator[Path]:
    """Run the block (and the processes it starts) with the demo's data folder; the user's settings come back after."""
    settings = get_settings()
    folder = demo_data_dir()
    project = settings.phoenix_project
    if not project.endswith(DEMO_PROJECT_SUFFIX):
        project += DEMO_PROJECT_SUFFIX
    saved = _switch_to(folder, project)
    try:
        yield folder
    finally:
        _restore(saved)


def _has_requests() -> bool:
    """Whether this data folder has traffic: a logged request, or a journal (a service ran here; rows may wait)."""
    from aiagents.logstore import open_store
    from aiagents.logstore.recover import journal_dir

    if journal_dir(get_settings().data_dir).exists():
        return True
    store = open_store()
    try:
        return bool(store.stats()["requests"])
    finally:
        store.close()


def _has_experiment(name: str) -> bool:
    from aiagents.rollout import ExperimentStore
    from aiagents.rollout.config import ExperimentConfigError

    try:
        return ExperimentStore().exists(name)
    except ExperimentConfigError:
        return False


def read_demo_data_unless_yours(*, experiment: str | None = None) -> bool:
    """Point this command at the demo's data folder when the user has none of their own to show.

    With `experiment`, when the user's data folder has no experiment of that name and the demo's has; without,
    when the user's request log is empty and the demo's is not. Returns whether it switched (and says so)."""
    folder = demo_data_dir()
    if not folder.is_dir():
        return False
    if experiment is not None:
        if _has_experiment(experiment):
            return False
    elif _has_requests() or not (folder / "logs" / "requests.db").exists():
        return False
    saved = _switch_to(folder, get_settings().phoenix_project)
    found = _has_experiment(experiment) if experiment is not None else _has_requests()
    if not found:
        _restore(saved)
        return False
    what = f"no experiment {experiment!r}" if experiment is not None else "no requests logged"
    console.print(
        f"[yellow]Your data folder has {what} yet: showing the demo's data in {folder} "
        f"(AIAGENTS_DATA_DIR={folder} to work on it; it is never read once you have your own).[/]"
    )
    return True
