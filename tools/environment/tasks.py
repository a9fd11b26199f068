"""Tasks in tau-bench's format: one JSON object per line, in files of any name.

A task has the simulated user's ``instruction``, the gold ``actions`` (tool calls whose replay gives the
expected database state) and the ``outputs`` an assistant reply must contain. ``task_id`` defaults to
``<file stem>-<line>``; ``user_id`` and any other field are kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiagents.tools.environment.errors import EnvironmentDataError
from pydantic import TypeAdapter, ValidationError

__all__ = ["EnvTask", "GoldAction", "load_tasks", "task_files"]


@dataclass(kw_only=True)
class GoldAction:
    """One tool call of a task's reference solution."""

    name: str
    """The tool's name."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """The tool's arguments."""


@dataclass(kw_only=True)
class EnvTask:
    """One task: a user brief, the gold tool calls and the strings the replies must contain."""

    task_id: str = ""
    """Unique id (``<file stem>-<line>`` when the file gives none)."""
    instruction: str
    """The simulated user's brief (tau-bench writes it in the second person: 'Your name is ...')."""
    actions: list[GoldAction] = field(default_factory=list)
    """The reference tool calls, in order; replaying them gives the expected database state."""
    outputs: list[str] = field(default_factory=list)
    """Strings an assistant reply must contain (case-insensitive, commas ignored in the reply)."""
    user_id: str | None = None
    """The user the brief is about, when the domain has users."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """The line's other fields."""


_TASK = TypeAdapter(EnvTask)
_KNOWN = {"task_id", "instruction", "actions", "outputs", "user_id", "metadata"}


def load_tasks(path: str | Path, *, task_type: Any = EnvTask) -> list[Any]:
    """The tasks of one JSON-lines file; a malformed line raises `EnvironmentDataError` naming file and line."""
    path = Path(path)
    adapter = _TASK if task_type is EnvTask else TypeAdapter(task_type)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise EnvironmentDataError(f"{path}: task file not found") from None
    tasks = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            if not isinstance(raw, dict):
                raise EnvironmentDataError(f"{path}:{number}: expected a JSON object, got {type(raw).__name__}")
            raw.setdefault("task_id", f"{path.stem}-{number}")
            if task_type is EnvTask:
                extra = {k: v for k, v in raw.items() if k not in _KNOWN}
                raw = {k: v for k, v in raw.items() if k in _KNOWN}
                raw["metadata"] = {**extra, **raw.get("metadata", {})}
            tasks.append(adapter.validate_python(raw))
        except json.JSONDecodeError as e:
            raise EnvironmentDataError(f"{path}:{number}: not valid JSON ({e.msg})") from None
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(map(str, first["loc"]))
            raise EnvironmentDataError(f"{path}:{number}: field {where!r}: {first['msg']}") from None
    return tasks


def task_files(data_dir: str | Path, pattern: str = "*.jsonl") -> list[Path]:
    """The task files matching ``pattern`` in ``data_dir``, sorted by name; raises if there are none."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise EnvironmentDataError(f"{data_dir}: no such folder; pass the environment's data folder")
    files = sorted(data_dir.glob(pattern))
    if not files:
        raise EnvironmentDataError(f"{data_dir}: no task files matching {pattern!r}")
    return files
