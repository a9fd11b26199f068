"""tau-bench retail tasks: one JSON object per line, validated on load."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aiagents.tools.environment.errors import EnvironmentDataError
from aiagents.tools.environment.tasks import GoldAction
from aiagents.tools.environment.tasks import load_tasks as load_env_tasks
from aiagents.tools.environment.tasks import task_files as env_task_files
from aiagents.tools.retail.errors import RetailDataError

__all__ = ["TASK_FILE_GLOB", "GoldAction", "RetailTask", "load_tasks", "task_files"]

TASK_FILE_GLOB = "retail_tasks_*.jsonl"
"""The task files of a data folder (``retail_tasks_train.jsonl``, ``retail_tasks_dev.jsonl``, ...)."""


@dataclass(kw_only=True)
class RetailTask:
    """One retail task: a customer brief, the gold tool calls and the strings the replies must contain."""

    task_id: str
    """Unique id, such as ``retail-tasks_dev-0``."""
    user_id: str
    """The customer the brief is about."""
    instruction: str
    """The simulated user's brief (second person: 'Your name is ...')."""
    actions: list[GoldAction]
    """The reference tool calls, in order; replaying them gives the expected database state."""
    outputs: list[str] = field(default_factory=list)
    """Strings an assistant reply must contain (case-insensitive, commas ignored in the reply)."""


def load_tasks(path: str | Path) -> list[RetailTask]:
    """The tasks of one JSON-lines file; a malformed line raises `RetailDataError` naming file and line."""
    try:
        return load_env_tasks(path, task_type=RetailTask)
    except EnvironmentDataError as e:
        raise RetailDataError(str(e)) from None


def task_files(data_dir: str | Path) -> list[Path]:
    """The task files in ``data_dir``, sorted by name; raises `RetailDataError` if there are none."""
    try:
        return env_task_files(data_dir, TASK_FILE_GLOB)
    except EnvironmentDataError as e:
        raise RetailDataError(f"{e}; pass the tau-bench retail data folder") from None
