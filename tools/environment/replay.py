"""Gold replay over a data folder: does replaying each task's gold actions reach the gold state?

Two ways: ``"tools"`` calls the tools directly through the toolset (what tau-bench's environment does),
``"agent"`` runs the full task runner with a scripted model that issues the gold calls one per round
(pydantic-ai agent, toolset schemas and argument validation included).

Required outputs that no tool result holds (a total the agent must compute) cannot be said without a model:
they are reported as "need a model", not as failures; the state must match for every task.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from aiagents.tools.environment.errors import EnvironmentRunnerError
from aiagents.tools.environment.runner import run_tasks
from aiagents.tools.environment.scoring import output_found, score_run
from aiagents.tools.environment.scripted import gold_model
from aiagents.tools.environment.tasks import load_tasks

if TYPE_CHECKING:
    from aiagents.tools.environment.environment import Environment

__all__ = ["ReplayFailure", "ReplayReport", "replay_gold"]

ReplayMode = Literal["tools", "agent"]


@dataclass(kw_only=True)
class ReplayFailure:
    """A task whose replay did not reach the gold state (or, in agent mode, failed to run)."""

    file: str
    """The task file's name."""
    task_id: str
    """The task's id."""
    reason: str
    """What differed: records and fields, missing outputs, run error."""


@dataclass(kw_only=True)
class ReplayReport:
    """Per-file and total counts of tasks whose replay holds."""

    environment: str = ""
    """The environment's name."""
    tasks: int = 0
    """Tasks replayed."""
    reward_1: int = 0
    """Tasks whose replay reached the gold state with every output found or needing a model."""
    files: dict[str, dict[str, int]] = field(default_factory=dict)
    """File name -> ``{"tasks": n, "reward_1": m, "outputs_need_model": o}``."""
    failures: list[ReplayFailure] = field(default_factory=list)
    """Every task below, with the reason."""
    outputs_need_model: dict[str, list[str]] = field(default_factory=dict)
    """Task id -> the required outputs no tool result holds (a model must compute and say them)."""
    gold_action_errors: int = 0
    """Gold actions the tools answered with ``Error:`` (0 means the tools accept every gold call)."""
    gold_actions: int = 0
    """Gold actions replayed."""
    mode: str = "tools"
    """``tools`` or ``agent`` (see the module docstring)."""
    seconds: float = 0.0
    """Wall time of the whole replay, loading included."""

    def to_json(self) -> dict[str, Any]:
        """The JSON the CLI prints."""
        return {
            "environment": self.environment,
            "tasks": self.tasks,
            "reward_1": self.reward_1,
            "files": self.files,
            "failures": [vars(f) for f in self.failures],
            "outputs_need_model": self.outputs_need_model,
            "gold_actions": self.gold_actions,
            "gold_action_errors": self.gold_action_errors,
            "mode": self.mode,
            "seconds": round(self.seconds, 3),
        }


async def replay_gold(
    env: Environment, data_dir: str | Path, *, mode: ReplayMode = "tools", split: str | None = None
) -> ReplayReport:
    """Replay every task of the environment's task files in ``data_dir``; score it against its gold state.

    The gold state comes from replaying the actions on one fresh copy; the scored run replays them on
    another (directly or through an agent), and its tool results are the replies the outputs must be in.
    """
    if mode not in ("tools", "agent"):
        raise EnvironmentRunnerError(f"replay mode must be 'tools' or 'agent', not {mode!r}")
    started = time.perf_counter()
    data = env.load(data_dir)
    report = ReplayReport(environment=env.name, mode=mode)
    for path in env.files(data_dir, split):
        tasks = load_tasks(path, task_type=env.task_type)
        golds = {task.task_id: await env.replay(task, data) for task in tasks}
        if mode == "agent":
            runs = await run_tasks(env, tasks, data=data, model_for=gold_model)
            scored = {run.task_id: (run.score, run.replies, run.error) for run in runs}
        else:
            scored = {}
            for task in tasks:
                replay = await env.replay(task, data)
                score = score_run(task, replay.db, replay.results, golds[task.task_id])
                scored[task.task_id] = (score, replay.results, None)
        ok = need = 0
        for task in tasks:
            gold = golds[task.task_id]
            report.gold_actions += len(gold.results)
            report.gold_action_errors += len(gold.errors)
            score, _replies, error = scored[task.task_id]
            # An output no gold tool result holds must be computed by a model: not this replay's failure.
            unreachable = [o for o in score.missing_outputs if not output_found(o, gold.results)]
            if unreachable:
                report.outputs_need_model[task.task_id] = unreachable
                need += 1
            missing = [o for o in score.missing_outputs if o not in unreachable]
            if score.state_match and not missing and not error:
                ok += 1
                continue
            reasons = []
            if not score.state_match:
                reasons.append("state differs: " + "; ".join(score.state_diff or score.state_differences))
            if missing:
                reasons.append(f"missing outputs {missing}")
            if error:
                reasons.append(error)
            report.failures.append(ReplayFailure(file=path.name, task_id=task.task_id, reason="; ".join(reasons)))
        report.files[path.name] = {"tasks": len(tasks), "reward_1": ok, "outputs_need_model": need}
        report.tasks += len(tasks)
        report.reward_1 += ok
    report.seconds = time.perf_counter() - started
    return report
