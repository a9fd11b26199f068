"""The four trajectory modes agree with their definitions on tau-bench retail gold actions, under
permutations and deletions (skips when the data is absent)."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest
from aiagents.evals.matching import ExpectedCall, match_calls

from aiagents.trajectory import ToolCall

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tau_bench_retail"


def _key(name: str, args: dict) -> str:
    return json.dumps([name, args], sort_keys=True)


def _tasks() -> list[list[dict]]:
    if not DATA.exists():
        pytest.skip(f"tau-bench retail data not found at {DATA}")
    out = []
    for f in sorted(DATA.glob("retail_tasks_*.jsonl")):
        out += [json.loads(line)["actions"] for line in f.read_text().splitlines() if line.strip()]
    return out


def test_modes_match_definitions_on_retail_gold() -> None:
    rng = random.Random(0)
    tasks = _tasks()
    assert len(tasks) == 520
    checked = Counter()
    for actions in tasks:
        ref = [ExpectedCall(tool=a["name"], args=a["kwargs"]) for a in actions]
        gold = [ToolCall(tool_name=a["name"], args=a["kwargs"]) for a in actions]
        variants = [gold, list(reversed(gold)), rng.sample(gold, len(gold))]
        if gold:
            i = rng.randrange(len(gold))
            variants.append(gold[:i] + gold[i + 1 :])  # deletion
            variants.append(gold + [gold[0]])  # duplication
            variants.append([*gold, ToolCall(tool_name="think", args={"thought": "x"})])  # extra call
        ref_ms = Counter(_key(e.tool, e.args) for e in ref)
        for actual in variants:
            act_ms = Counter(_key(c.tool_name, c.args) for c in actual)
            want = {
                "strict": [_key(c.tool_name, c.args) for c in actual] == [_key(e.tool, e.args) for e in ref],
                "unordered": act_ms == ref_ms,
                "subset": not (act_ms - ref_ms),
                "superset": not (ref_ms - act_ms),
            }
            for mode, expected in want.items():
                assert match_calls(actual, ref, mode).passed is expected, (mode, actual, ref)
                checked[(mode, expected)] += 1
    # both outcomes were exercised for every mode
    assert all(checked[(m, v)] > 0 for m in ("strict", "unordered", "subset", "superset") for v in (True, False))
