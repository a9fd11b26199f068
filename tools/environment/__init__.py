"""Agent environments (tau-bench style) for any domain: tables, a toolset, a policy and tasks.

Define an `Environment`; the framework gives every domain a fresh copy of its tables per run, the state hash
and a readable diff, gold replay, tau-bench's reward, multi-turn runs with a simulated user, pass^k,
concurrency, trajectories and traces. ``aiagents env list|replay|run`` drives one from the command line.
"""

from __future__ import annotations

from aiagents.tools.environment.calls import ToolCaller, result_text
from aiagents.tools.environment.database import Database, EnvironmentData, Table, load_tables, record_digest
from aiagents.tools.environment.environment import (
    BUILTIN_ENVIRONMENTS,
    Environment,
    builtin_environments,
    load_environment,
)
from aiagents.tools.environment.errors import EnvironmentDataError, EnvironmentRunnerError
from aiagents.tools.environment.passk import pass_hat_k
from aiagents.tools.environment.replay import ReplayFailure, ReplayReport, replay_gold
from aiagents.tools.environment.runner import AgentFactory, TaskRun, ToolCall, run_task, run_tasks, tool_calls
from aiagents.tools.environment.scoring import GoldReplay, Score, output_found, score_run
from aiagents.tools.environment.scripted import gold_model, scripted_tool_model
from aiagents.tools.environment.tasks import EnvTask, GoldAction, load_tasks, task_files
from aiagents.tools.environment.users import STOP, Conversation, ModelUser, ScriptedUser, SimulatedUser

__all__ = [
    "BUILTIN_ENVIRONMENTS",
    "Environment",
    "builtin_environments",
    "load_environment",
    "Database",
    "EnvironmentData",
    "Table",
    "load_tables",
    "record_digest",
    "EnvironmentDataError",
    "EnvironmentRunnerError",
    "ToolCaller",
    "result_text",
    "EnvTask",
    "GoldAction",
    "load_tasks",
    "task_files",
    "GoldReplay",
    "Score",
    "output_found",
    "score_run",
    "ReplayFailure",
    "ReplayReport",
    "replay_gold",
    "AgentFactory",
    "TaskRun",
    "ToolCall",
    "run_task",
    "run_tasks",
    "tool_calls",
    "pass_hat_k",
    "gold_model",
    "scripted_tool_model",
    "STOP",
    "Conversation",
    "ModelUser",
    "ScriptedUser",
    "SimulatedUser",
]
