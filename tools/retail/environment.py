"""The retail shop as an `Environment`: the general runner, replay and CLI (`aiagents env ... retail`) use it."""

from __future__ import annotations

from aiagents.tools.environment import Environment
from aiagents.tools.retail.database import TABLES
from aiagents.tools.retail.policy import RETAIL_POLICY_VERSION, RETAIL_RULES
from aiagents.tools.retail.tasks import TASK_FILE_GLOB, RetailTask
from aiagents.tools.retail.toolset import retail_toolset

__all__ = ["RETAIL"]

RETAIL = Environment(
    name="retail",
    toolset=retail_toolset,
    policy=RETAIL_RULES,
    tables=TABLES,
    task_files=TASK_FILE_GLOB,
    task_type=RetailTask,
    version=RETAIL_POLICY_VERSION,
    description="tau-bench retail: 16 tools over users, orders and products; 500 train + 20 dev tasks",
)
"""tau-bench's retail domain (data: ``../shared/data/tau_bench_retail``)."""
