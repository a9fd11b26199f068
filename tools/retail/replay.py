"""Gold replay over a data folder: does replaying each task's gold actions through our tools reach reward 1?

Two ways: ``"tools"`` calls the tools directly (what tau-bench's environment does), ``"agent"`` runs the
full task runner with a scripted model that issues the gold calls one per round (pydantic-ai agent,
toolset schemas and argument validation included; a few ms more per task).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aiagents.tools.retail.database import load_retail_data
from aiagents.tools.retail.runner import run_tasks
from aiagents.tools.retail.scoring import replay_actions, score_run
from aiagents.tools.retail.scripted import gold_model
from aiagents.tools.retail.tasks import load_tasks, task_files

__all__ = ["ReplayFailure", "ReplayReport", "replay_gold"]

ReplayMode = Literal["tools", "agent"]


@dataclass(kw_only=True)
class ReplayFailure:
    """A task whose replay did not reach reward 1."""

    file: str
    """The task file's name."""
    task_id: str
    """The task's id."""
    reason: str
    """What differed: records, missing outputs, run error."""


@dataclass(kw_only=True)
class ReplayReport:
    """Per-file and total counts of tasks reaching reward 1."""

    tasks: int = 0
    """Tasks replayed."""
    reward_1: int = 0
    """Tasks that reached reward 1."""
    files: dict[str, dict[str, int]] = field(default_factory=dict)
    """File name -> ``{"tasks": n, "reward_1": m}``."""
    failures: list[ReplayFailure] = field(default_factory=list)
    """Every task below reward 1, with the reason."""
    gold_action_errors: int = 0
    """Gold actions our tools answered with ``Error:`` (0 means our semantics accept every gold call)."""
    gold_actions: int = 0
    """Gold actions replayed."""
    mode: str = "tools"
    """``tools`` or ``agent`` (see the module docstring)."""
    seconds: float = 0.0
    """Wall time of the whole replay, loading included."""

    def to_json(self) -> dict[str, Any]:
        """The JSON the CLI prints."""
        return {
            "tasks": self.tasks,
            "reward_1": self.reward_1,
            "files": self.files,
            "failures": [vars(f) for f in self.failures],
            "gold_actions": self.gold_actions,
            "gold_action_errors": self.gold_action_errors,
            "mode": self.mode,
            "seconds": round(self.seconds, 3),
        }


async def replay_gold(data_dir: str | Path, *, mode: ReplayMode = "tools") -> ReplayReport:
    """Replay every task of each ``retail_tasks_*.jsonl`` in ``data_dir``; score it against its gold state.

    The gold state comes from replaying the actions on one fresh copy; the scored run replays them on
    another (directly or through an agent), and its tool results are the replies the outputs must be in.
    """
    started = time.perf_counter()
    data = load_retail_data(data_dir)
    report = ReplayReport(mode=mode)
    for path in task_files(data_dir):
        tasks = load_tasks(path)
        golds = {task.task_id: replay_actions(task, data) for task in tasks}
        if mode == "agent":
            runs = await run_tasks(tasks, data=data, model_for=gold_model)
            scores = {run.task_id: (run.score, run.error) for run in runs}
        else:
            scores = {}
            for task in tasks:
                replay = replay_actions(task, data)
                scores[task.task_id] = (score_run(task, replay.db, replay.results, golds[task.task_id]), None)
        ok = 0
        for task in tasks:
            gold = golds[task.task_id]
            report.gold_actions += len(gold.results)
            report.gold_action_errors += len(gold.errors)
            score, error = scores[task.task_id]
            if score.reward == 1.0:
                ok += 1
                continue
            reasons = []
            if not score.state_match:
                reasons.append(f"state differs in {', '.join(score.state_differences) or '(records)'}")
            if score.missing_outputs:
                reasons.append(f"missing outputs {score.missing_outputs}")
            if error:
                reasons.append(error)
            report.failures.append(ReplayFailure(file=path.name, task_id=task.task_id, reason="; ".join(reasons)))
        report.files[path.name] = {"tasks": len(tasks), "reward_1": ok}
        report.tasks += len(tasks)
        report.reward_1 += ok
    report.seconds = time.perf_counter() - started
    return report
