"""`Environment`: a domain an agent acts in, as data: tables, a toolset over them, a policy and task files.

```python
from aiagents.tools.environment import Environment

LIBRARY = Environment(
    name="library",
    toolset=library_toolset,          # Database -> a toolset (make_toolset) over that run's copy
    policy="You are a librarian ...",  # the agent's instructions
    tables=("members", "books"),       # NAME.json files under the data folder's db/ (default: all of them)
    task_files="tasks*.jsonl",        # tau-bench lines: instruction, actions (gold calls), outputs
)
report = await replay_gold(LIBRARY, "data/library")          # gold actions reach the gold state?
runs = await run_tasks(LIBRARY, LIBRARY.tasks("data/library"), data=LIBRARY.load("data/library"),
                       model="openai:gpt-4.1-mini", user=ModelUser("openai:gpt-4.1-mini"), k=4)
```

The framework supplies the rest for every domain: a fresh copy of the tables per run, the state hash and a
readable diff, gold replay, tau-bench's reward, pass^k, concurrency, trajectories and traces.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiagents.tools.environment.calls import ToolCaller
from aiagents.tools.environment.database import Database, EnvironmentData, load_tables
from aiagents.tools.environment.errors import EnvironmentDataError
from aiagents.tools.environment.model_names import resolve
from aiagents.tools.environment.runner import MULTI_TURN_NOTE, SINGLE_TURN_NOTE
from aiagents.tools.environment.scoring import GoldReplay
from aiagents.tools.environment.tasks import EnvTask, load_tasks, task_files
from pydantic_ai import Agent
from pydantic_ai.models import Model
from pydantic_ai.toolsets import AbstractToolset

__all__ = ["BUILTIN_ENVIRONMENTS", "Environment", "load_environment"]


BUILTIN_ENVIRONMENTS: dict[str, str] = {"retail": "aiagents.tools.retail:RETAIL"}
"""Built-in environments by name -> where they are defined (imported on use)."""


@dataclass(kw_only=True, frozen=True)
class Environment:
    """A domain: its tables, the toolset over one run's copy of them, the agent's policy and its task files."""

    name: str
    """Short name (spans are named ``<name>.task``)."""
    toolset: Callable[[Database], AbstractToolset[Any]]
    """Builds the tools over one working database (one call per run); `make_toolset` applies the conventions."""
    policy: str
    """The agent's instructions: the domain's rules (the runner adds the conversation protocol's note)."""
    tables: tuple[str, ...] = ()
    """Table names (``<db folder>/NAME.json``); empty: every ``*.json`` there."""
    task_files: str = "*.jsonl"
    """Glob of the task files in the data folder."""
    db_folder: str = "db"
    """The tables' folder inside the data folder (``""``: the data folder itself)."""
    task_type: Any = EnvTask
    """The task class (a dataclass with at least ``task_id``, ``instruction``, ``actions``, ``outputs``)."""
    description: str = ""
    """One line for ``aiagents env list``."""
    version: str | None = None
    """The policy's version name; default: ``<name>-policy@<hash of the policy>``."""
    notes: dict[str, str] = field(default_factory=lambda: {"single": SINGLE_TURN_NOTE, "multi": MULTI_TURN_NOTE})
    """The protocol notes appended to the policy for single- and multi-turn runs."""

    @property
    def policy_version(self) -> str:
        """The version recorded on every run."""
        return self.version or f"{self.name}-policy@{hashlib.sha256(self.policy.encode()).hexdigest()[:8]}"

    def instructions(self, *, multi_turn: bool) -> str:
        """The policy with the note of the conversation protocol."""
        return self.policy.rstrip("\n") + "\n" + self.notes["multi" if multi_turn else "single"]

    def agent(self, model: Model | str, toolset: AbstractToolset[Any], *, multi_turn: bool = False) -> Agent[None, str]:
        """The environment's default agent: ``model`` (a model string of `aiagents.models`: ``offline``,
        ``openai:...``, ``openai-compatible:NAME@URL``, ``replay:FILE``) with the policy and this run's toolset."""
        return Agent(
            resolve(model),
            instructions=self.instructions(multi_turn=multi_turn),
            toolsets=[toolset],
            name=f"{self.name}_agent",
        )

    def load(self, data_dir: str | Path) -> EnvironmentData:
        """The tables under ``data_dir`` (read once per process)."""
        return load_tables(Path(data_dir) / self.db_folder, self.tables)

    def files(self, data_dir: str | Path, split: str | None = None) -> list[Path]:
        """The task files in ``data_dir``; with ``split``, only those whose name holds it (``dev``)."""
        files = task_files(data_dir, self.task_files)
        if split is not None:
            files = [
                f for f in files if f.stem == split or f.stem.endswith(f"_{split}") or f.stem.endswith(f"-{split}")
            ]
            if not files:
                wanted = self.task_files.replace("*", split) if "*" in self.task_files else split
                known = ", ".join(f.name for f in task_files(data_dir, self.task_files))
                raise EnvironmentDataError(f"{data_dir}: no {wanted} (the task files: {known})")
        return files

    def tasks(self, data_dir: str | Path, split: str | None = None) -> list[Any]:
        """Every task of the task files (one split's with ``split``), in file then line order."""
        return [t for path in self.files(data_dir, split) for t in load_tasks(path, task_type=self.task_type)]

    async def replay(self, task: Any, data: EnvironmentData) -> GoldReplay:
        """Replay ``task``'s gold actions through the toolset on a fresh copy of ``data``."""
        db = data.fresh()
        caller = ToolCaller(self.toolset(db))
        results = [await caller.call(action.name, action.kwargs) for action in task.actions]
        return GoldReplay(db=db, results=results)


def load_environment(spec: str | Environment) -> Environment:
    """An environment by built-in name (``retail``) or ``module:attribute`` of your own (imported from the
    working folder, no PYTHONPATH needed); the attribute may be an `Environment` or a function returning one."""
    if isinstance(spec, Environment):
        return spec
    from aiagents.user_code import import_object

    target = BUILTIN_ENVIRONMENTS.get(spec, spec)
    if ":" not in target:
        known = ", ".join(sorted(BUILTIN_ENVIRONMENTS))
        raise EnvironmentDataError(f"unknown environment {spec!r}: use a built-in ({known}) or module:attribute")
    try:
        obj = import_object(target)
    except (ImportError, AttributeError) as e:
        raise EnvironmentDataError(f"environment {spec!r}: {e}") from None
    if callable(obj) and not isinstance(obj, Environment):
        obj = obj()
    if not isinstance(obj, Environment):
        raise EnvironmentDataError(f"{spec}: expected an Environment, got {type(obj).__name__}")
    return obj


def builtin_environments() -> Sequence[Environment]:
    """The built-in environments, loaded."""
    return [load_environment(name) for name in sorted(BUILTIN_ENVIRONMENTS)]
