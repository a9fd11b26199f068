"""tau-bench retail tasks: one JSON object per line, validated on load."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiagents.tools.retail.errors import RetailDataError
from pydantic import TypeAdapter, ValidationError

__all__ = ["TASK_FILE_GLOB", "GoldAction", "RetailTask", "load_tasks", "task_files"]

TASK_FILE_GLOB = "retail_tasks_*.jsonl"
"""The task files of a data folder (``retail_tasks_train.jsonl``, ``retail_tasks_dev.jsonl``, ...)."""


@dataclass(kw_only=True)
class GoldAction:
    """One tool call of a task's reference solution."""

    name: str
    """The tool's name."""
    kwargs: dict[str, Any]
    """The tool's arguments."""


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


_TASK = TypeAdapter(RetailTask)


def load_tasks(path: str | Path) -> list[RetailTask]:
    """The tasks of one JSON-lines file; a malformed line raises `RetailDataError` naming file and line."""
    path = Path(path)
    tasks = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise RetailDataError(f"{path}: task file not found") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            tasks.append(_TASK.validate_python(json.loads(line)))
        except json.JSONDecodeError as e:
            raise RetailDataError(f"{path}:{number}: not valid JSON ({e.msg})") from None
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(map(str, first["loc"]))
            raise RetailDataError(f"{path}:{number}: field {where!r}: {first['msg']}") from None
    return tasks


def task_files(data_dir: str | Path) -> list[Path]:
    """The task files in ``data_dir``, sorted by name; raises `RetailDataError` if there are none."""
    data_dir = Path(data_dir)
    files = sorted(data_dir.glob(TASK_FILE_GLOB))
    if not files:
        raise RetailDataError(f"{data_dir}: no {TASK_FILE_GLOB} files; pass the tau-bench retail data folder")
    return files
