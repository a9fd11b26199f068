"""The retail environment on the real tau-bench data: schema agreement, the 520-task gold replay, the CLI."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiagents.tools.retail import (
    TOOL_NAMES,
    WRITE_TOOLS,
    GoldAction,
    RetailTask,
    gold_model,
    load_retail_data,
    load_tasks,
    replay_actions,
    replay_gold,
    retail_toolset,
    run_tasks,
    score_run,
)
from pydantic_ai import RunContext
from pydantic_ai.models.test import TestModel
from pydantic_ai.usage import RunUsage
from typer.testing import CliRunner

from aiagents.cli import app

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "tau_bench_retail"
pytestmark = pytest.mark.skipif(
    not (DATA / "retail_tools.json").exists(), reason=f"tau-bench retail data not found at {DATA}"
)


def _our_schemas() -> dict[str, dict[str, Any]]:
    toolset = retail_toolset(load_retail_data(DATA).fresh())
    ctx = RunContext(deps=None, model=TestModel(), usage=RunUsage())
    tools = asyncio.run(toolset.get_tools(ctx))
    return {name: tool.tool_def.parameters_json_schema for name, tool in tools.items()}


def _shape(schema: dict[str, Any]) -> dict[str, Any]:
    """What must agree: property names, types (and item types), enums, required names."""
    props = {
        name: (p.get("type"), p.get("items", {}).get("type"), tuple(p.get("enum", ())))
        for name, p in schema.get("properties", {}).items()
    }
    return {"properties": props, "required": sorted(schema.get("required", []))}


def test_our_tool_schemas_agree_with_retail_tools_json() -> None:
    reference = {
        t["function"]["name"]: t["function"]["parameters"] for t in json.loads((DATA / "retail_tools.json").read_text())
    }
    ours = _our_schemas()
    assert sorted(ours) == sorted(reference) == list(TOOL_NAMES)
    for name, schema in reference.items():
        assert _shape(ours[name]) == _shape(schema), name
        assert all(p.get("description") for p in ours[name]["properties"].values()), name


def test_gold_replay_reaches_reward_1_on_all_520_tasks_and_leaves_the_base_untouched() -> None:
    data = load_retail_data(DATA)
    with (DATA / "db" / "orders.json").open() as f:
        on_disk_orders = json.load(f)
    before = data.state_hash()
    report = asyncio.run(replay_gold(DATA))
    assert report.to_json()["files"] == {
        "retail_tasks_dev.jsonl": {"tasks": 20, "reward_1": 20, "outputs_need_model": 0},
        "retail_tasks_train.jsonl": {"tasks": 500, "reward_1": 500, "outputs_need_model": 0},
    }
    assert (report.tasks, report.reward_1, report.failures) == (520, 520, [])
    # 20 of the 793 gold calls ask for more than a gift card holds; the tools refuse them, as tau-bench's do.
    assert (report.gold_actions, report.gold_action_errors) == (793, 20)
    assert data.state_hash() == before
    assert data.tables["orders"] == on_disk_orders


def test_every_refused_gold_action_is_an_insufficient_gift_card_balance() -> None:
    data = load_retail_data(DATA)
    errors = [
        result
        for path in sorted(DATA.glob("retail_tasks_*.jsonl"))
        for task in load_tasks(path)
        for result in replay_actions(task, data).errors
    ]
    assert len(errors) == 20
    assert all("insufficient gift card balance" in e for e in errors)


def test_gold_replay_changes_the_state_so_a_wrong_run_scores_0() -> None:
    data = load_retail_data(DATA)
    task = load_tasks(DATA / "retail_tasks_dev.jsonl")[0]  # cancel #W5442520, 'no longer needed'
    gold = replay_actions(task, data)
    assert gold.state_hash != data.state_hash()
    nothing = data.fresh()
    assert score_run(task, nothing, [], gold).reward == 0.0
    wrong = RetailTask(
        task_id="wrong",
        user_id=task.user_id,
        instruction="",
        actions=[
            GoldAction(name="cancel_pending_order", kwargs={"order_id": "#W5442520", "reason": "ordered by mistake"})
        ],
    )
    score = score_run(task, replay_actions(wrong, data).db, [], gold)
    assert (score.reward, score.state_differences) == (0.0, ["orders/#W5442520"])


async def test_gold_calls_through_a_scripted_agent_reach_reward_1_on_the_dev_tasks() -> None:
    data = load_retail_data(DATA)
    tasks = load_tasks(DATA / "retail_tasks_dev.jsonl")
    runs = await run_tasks(tasks, data=data, model_for=gold_model)
    assert [r.reward for r in runs] == [1.0] * 20
    calls = [c.name for r in runs for c in r.tool_calls]
    assert calls == [a.name for t in tasks for a in t.actions]
    assert set(calls) <= set(WRITE_TOOLS)


def test_cli_replay_prints_one_json_object() -> None:
    result = CliRunner().invoke(app, ["retail", "replay", "--data", str(DATA), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["tasks"], out["reward_1"], out["failures"]) == (520, 520, [])
    assert out["files"]["retail_tasks_train.jsonl"] == {"tasks": 500, "reward_1": 500, "outputs_need_model": 0}


def test_cli_replay_names_a_wrong_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["retail", "replay", "--data", str(tmp_path), "--json"])
    assert result.exit_code == 2
    message = json.loads(result.stdout)["error"]["message"]  # with --json the error is JSON on stdout
    assert "db/users.json" in message and str(tmp_path) in message
    plain = CliRunner().invoke(app, ["env", "replay", "retail", "--data", str(tmp_path)])
    assert plain.exit_code == 2 and "db/users.json" in plain.stderr


def test_cli_run_scores_the_offline_baseline_on_a_split() -> None:
    result = CliRunner().invoke(
        app, ["retail", "run", "--data", str(DATA), "--model", "offline", "--split", "dev", "--limit", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [r["task_id"] for r in out["results"]] == ["retail-tasks_dev-0", "retail-tasks_dev-1"]
    assert out["tasks"] == 2 and out["policy_version"] == "retail-policy@1"
    assert out["reward_1"] == sum(r["reward"] == 1.0 for r in out["results"])
    for r in out["results"]:
        assert r["reward"] == (1.0 if r["state_match"] and not r["missing_outputs"] else 0.0)
    # Both tasks need a write (cancel #W5442520, exchange on #W7273336): doing nothing leaves the state off.
    if not any(c["name"] in WRITE_TOOLS for r in out["results"] for c in r["tool_calls"]):
        assert out["reward_1"] == 0
        assert [r["state_differences"] for r in out["results"]] == [["orders/#W5442520"], ["orders/#W7273336"]]


def test_cli_run_names_a_missing_split() -> None:
    result = CliRunner().invoke(app, ["retail", "run", "--data", str(DATA), "--model", "offline", "--split", "nope"])
    assert result.exit_code == 2
    assert "retail_tasks_nope.jsonl" in result.stderr


def test_cli_run_against_an_openai_wire_server_over_several_tool_rounds(openai_server) -> None:  # type: ignore[no-untyped-def]
    from tests.support.openai_wire import text_reply, tool_call_reply

    cancel = {"order_id": "#W5442520", "reason": "no longer needed"}
    openai_server.script(
        tool_call_reply(("find_user_id_by_name_zip", {"first_name": "Olivia", "last_name": "Ito", "zip": "80218"})),
        tool_call_reply(("get_order_details", {"order_id": "#W5442520"})),
        tool_call_reply(("cancel_pending_order", cancel)),
        text_reply("Your order #W5442520 is cancelled; the refund is on its way."),
    )
    model = f"openai-compatible:wire-test-model@{openai_server.url}"
    args = ["retail", "run", "--data", str(DATA), "--model", model, "--split", "dev", "--limit", "1", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    [run] = json.loads(result.stdout)["results"]
    assert (run["reward"], run["state_match"], run["error"]) == (1.0, True, None)
    assert [c["name"] for c in run["tool_calls"]] == [
        "find_user_id_by_name_zip",
        "get_order_details",
        "cancel_pending_order",
    ]
    requests = openai_server.requests
    assert len(requests) == 4
    tools = {t["function"]["name"]: t["function"] for t in requests[0]["tools"]}
    assert sorted(tools) == list(TOOL_NAMES)
    assert tools["cancel_pending_order"]["parameters"]["properties"]["reason"]["enum"] == [
        "no longer needed",
        "ordered by mistake",
    ]
    assert requests[0]["messages"][0]["role"] == "system"
    assert "customer-service agent" in requests[0]["messages"][0]["content"]
    tool_messages = [m for m in requests[1]["messages"] if m["role"] == "tool"]
    assert tool_messages[-1]["content"] == "olivia_ito_3591"
