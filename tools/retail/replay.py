"""Gold replay of the retail tasks: the general `replay_gold` on the `RETAIL` environment."""

from __future__ import annotations

from pathlib import Path

from aiagents.tools.environment.replay import ReplayFailure, ReplayMode, ReplayReport
from aiagents.tools.environment.replay import replay_gold as replay_environment
from aiagents.tools.retail.environment import RETAIL

__all__ = ["ReplayFailure", "ReplayReport", "replay_gold"]


async def replay_gold(data_dir: str | Path, *, mode: ReplayMode = "tools") -> ReplayReport:
    """Replay every task of each ``retail_tasks_*.jsonl`` in ``data_dir``; score it against its gold state."""
    return await replay_environment(RETAIL, data_dir, mode=mode)
