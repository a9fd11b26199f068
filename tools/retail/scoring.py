"""tau-bench's reward for the shop (the general `aiagents.tools.environment.scoring`), and the direct replay
of a task's gold actions through `RetailTools.call` (synchronous, for scripts and benchmarks)."""

from __future__ import annotations

from aiagents.tools.environment.database import EnvironmentData
from aiagents.tools.environment.scoring import GoldReplay, Score, output_found, score_run
from aiagents.tools.retail.tasks import RetailTask
from aiagents.tools.retail.tools import RetailTools

__all__ = ["GoldReplay", "Score", "output_found", "replay_actions", "score_run"]


def replay_actions(task: RetailTask, data: EnvironmentData) -> GoldReplay:
    """Replay ``task``'s gold actions through the tools on a fresh copy of ``data``."""
    db = data.fresh()
    tools = RetailTools(db)
    results = [tools.call(action.name, action.kwargs) for action in task.actions]
    return GoldReplay(db=db, results=results)
