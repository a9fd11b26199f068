"""The retail-shop environment (tau-bench retail): 16 tools over a mock shop database, as the `RETAIL`
`Environment` (gold replay, runner, multi-turn runs and pass^k come from `aiagents.tools.environment`).

```python
from aiagents.tools.retail import load_retail_data, load_tasks, run_task

data = load_retail_data("../shared/data/tau_bench_retail")
task = load_tasks("../shared/data/tau_bench_retail/retail_tasks_dev.jsonl")[0]
run = await run_task(task, data=data, model="openai:gpt-4.1-mini")
print(run.reward, run.score.state_differences)
```
"""

from __future__ import annotations

from aiagents.tools.retail.database import TABLES, RetailData, RetailDatabase, Table, load_retail_data, record_digest
from aiagents.tools.retail.environment import RETAIL
from aiagents.tools.retail.errors import RetailDataError, RetailRunnerError
from aiagents.tools.retail.policy import RETAIL_POLICY, RETAIL_POLICY_VERSION, RETAIL_RULES
from aiagents.tools.retail.replay import ReplayFailure, ReplayReport, replay_gold
from aiagents.tools.retail.runner import (
    AgentFactory,
    SimulatedUser,
    TaskRun,
    ToolCall,
    build_retail_agent,
    run_task,
    run_tasks,
)
from aiagents.tools.retail.scoring import GoldReplay, Score, output_found, replay_actions, score_run
from aiagents.tools.retail.scripted import gold_model, scripted_tool_model
from aiagents.tools.retail.tasks import TASK_FILE_GLOB, GoldAction, RetailTask, load_tasks, task_files
from aiagents.tools.retail.tools import (
    CANCEL_REASONS,
    READ_TOOLS,
    TOOL_NAMES,
    WRITE_TOOLS,
    CancelReason,
    RetailTools,
)
from aiagents.tools.retail.toolset import retail_toolset

__all__ = [
    "RETAIL",
    "RETAIL_RULES",
    # database
    "TABLES",
    "RetailData",
    "RetailDatabase",
    "Table",
    "load_retail_data",
    "record_digest",
    # tools and toolset
    "CANCEL_REASONS",
    "READ_TOOLS",
    "TOOL_NAMES",
    "WRITE_TOOLS",
    "CancelReason",
    "RetailTools",
    "retail_toolset",
    # tasks and scoring
    "TASK_FILE_GLOB",
    "GoldAction",
    "RetailTask",
    "load_tasks",
    "task_files",
    "GoldReplay",
    "Score",
    "output_found",
    "replay_actions",
    "score_run",
    # running agents
    "RETAIL_POLICY",
    "RETAIL_POLICY_VERSION",
    "AgentFactory",
    "SimulatedUser",
    "TaskRun",
    "ToolCall",
    "build_retail_agent",
    "run_task",
    "run_tasks",
    "gold_model",
    "scripted_tool_model",
    # gold replay
    "ReplayFailure",
    "ReplayReport",
    "replay_gold",
    # errors
    "RetailDataError",
    "RetailRunnerError",
]
