"""tau-bench's reward for the shop (the general `aiagents.tools.environment.scoring`), and a synchronous replay
of a task's gold actions (the environment's own replay, for scripts and benchmarks)."""

from __future__ import annotations

import asyncio

from aiagents.tools.environment.database import EnvironmentData
from aiagents.tools.environment.scoring import GoldReplay, Score, output_found, score_run
from aiagents.tools.retail.environment import RETAIL
from aiagents.tools.retail.tasks import RetailTask

__all__ = ["GoldReplay", "Score", "output_found", "replay_actions", "score_run"]


def replay_actions(task: RetailTask, data: EnvironmentData) -> GoldReplay:
    """Replay ``task``'s gold actions through the tools on a fresh copy of ``data`` (`RETAIL.replay`; outside an
    event loop)."""
    return asyncio.run(RETAIL.replay(task, data))
