"""Benchmark: the cost of a fresh database per run, of a state hash, and of the 520-task gold replay.

    python bench/retail_replay.py [--data ../shared/data/tau_bench_retail] [--repeat 20] [--agent]

Compares a whole-database copy per run (``copy.deepcopy``, a pickle round trip) plus a whole-database
canonical hash with the copy-on-write `RetailDatabase` (records copied on edit, per-record hashes cached),
then times `replay_gold` (tools mode: each gold call through the environment's toolset, as a model's call
runs; beside it the same replay through `RetailTools.call` directly, the floor; with ``--agent`` also through
a scripted pydantic-ai agent), and multi-turn runs with a scripted user on the dev split, k=2 (pass^k).
Also reports the "do nothing" baseline: tasks whose gold state equals the initial state.
Prints one JSON object; the numbers are what this machine measured.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import hashlib
import json
import pickle
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiagents.tools.environment import ScriptedUser, gold_model, pass_hat_k
from aiagents.tools.retail import (
    RetailTools,
    load_retail_data,
    load_tasks,
    replay_actions,
    replay_gold,
    run_tasks,
    task_files,
)

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "tau_bench_retail"


def _ms(fn: Callable[[], Any], repeat: int) -> float:
    """Median wall time of ``fn`` in milliseconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--agent", action="store_true", help="also replay through a scripted agent")
    args = parser.parse_args()

    started = time.perf_counter()
    data = load_retail_data(args.data)
    load_ms = round((time.perf_counter() - started) * 1000, 1)
    plain = {name: dict(records) for name, records in data.tables.items()}
    pickled = pickle.dumps(plain)

    def full_hash() -> str:
        return hashlib.sha256(json.dumps(plain, sort_keys=True).encode()).hexdigest()

    def cow_edit_and_hash() -> str:
        db = data.fresh()
        db.orders.edit(next(iter(db.orders)))["status"] = "cancelled"
        return db.state_hash()

    per_run = {
        "deepcopy_ms": _ms(lambda: copy.deepcopy(plain), args.repeat),
        "pickle_roundtrip_ms": _ms(lambda: pickle.loads(pickled), args.repeat),
        "full_canonical_hash_ms": _ms(full_hash, args.repeat),
        "cow_fresh_ms": _ms(data.fresh, args.repeat),
        "cow_fresh_edit_one_record_and_hash_ms": _ms(cow_edit_and_hash, args.repeat),
    }

    report = asyncio.run(replay_gold(args.data))
    result: dict[str, Any] = {
        "data": str(args.data.resolve()),
        "records": {name: len(records) for name, records in data.tables.items()},
        "load_and_digest_ms": load_ms,
        "per_run": per_run,
        "replay_tools": {
            "tasks": report.tasks,
            "reward_1": report.reward_1,
            "seconds": round(report.seconds, 3),
        },
    }
    tasks = [task for path in task_files(args.data) for task in load_tasks(path)]
    started = time.perf_counter()
    direct_ok = 0
    for task in tasks:  # the floor: each gold call straight to `RetailTools.call`, twice (gold and scored run)
        first, again = data.fresh(), data.fresh()
        for db in (first, again):
            tools = RetailTools(db)
            for action in task.actions:
                tools.call(action.name, action.kwargs)
        direct_ok += again.state_hash() == first.state_hash()
    result["replay_direct_calls"] = {
        "tasks": len(tasks), "state_match": direct_ok, "seconds": round(time.perf_counter() - started, 3),
    }  # fmt: skip
    dev = load_tasks(args.data / "retail_tasks_dev.jsonl")
    started = time.perf_counter()
    runs = asyncio.run(
        run_tasks(dev, data=data, model_for=gold_model, user=ScriptedUser(["Yes, please go ahead."]), k=2)
    )
    seconds = time.perf_counter() - started
    outcomes: dict[str, list[bool]] = {}
    for run in runs:
        outcomes.setdefault(run.task_id, []).append(run.reward == 1.0)
    result["multi_turn_scripted_dev_k2"] = {
        "runs": len(runs),
        "ms_per_run": round(seconds * 1000 / len(runs), 2),
        "pass^1": round(pass_hat_k(outcomes, 1), 3),
        "pass^2": round(pass_hat_k(outcomes, 2), 3),
    }
    if args.agent:
        agent_report = asyncio.run(replay_gold(args.data, mode="agent"))
        result["replay_agent"] = {
            "tasks": agent_report.tasks,
            "reward_1": agent_report.reward_1,
            "seconds": round(agent_report.seconds, 3),
        }
    initial = data.state_hash()
    result["do_nothing_baseline_reward_1"] = sum(
        replay_actions(task, data).state_hash == initial and not task.outputs for task in tasks
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
