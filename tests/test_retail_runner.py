"""Task files, scoring and the task runner with scripted pydantic-ai models (no LLM, no data folder)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from aiagents.tools.retail import (
    RETAIL_POLICY,
    GoldAction,
    RetailData,
    RetailDataError,
    RetailRunnerError,
    RetailTask,
    load_tasks,
    output_found,
    replay_actions,
    run_task,
    run_tasks,
    score_run,
    scripted_tool_model,
)
from pydantic_ai import Agent, UsageLimits
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, ToolCallPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

ADDRESS = {
    "address1": "1 Main St",
    "address2": "",
    "city": "Springfield",
    "country": "USA",
    "state": "IL",
    "zip": "10001",
}


def shop() -> RetailData:
    """One user with a pending and a delivered order of one mug each."""
    mug = {"name": "Mug", "product_id": "p2", "item_id": "m1", "price": 5.0, "options": {"color": "white"}}

    def order(order_id: str, status: str) -> dict:
        return {
            "order_id": order_id,
            "user_id": "ann_1",
            "address": ADDRESS,
            "items": [mug],
            "fulfillments": [],
            "status": status,
            "payment_history": [{"transaction_type": "payment", "amount": 5.0, "payment_method_id": "gift_card_1"}],
        }

    return RetailData.from_tables(
        {
            "users": {
                "ann_1": {
                    "name": {"first_name": "Ann", "last_name": "Lee"},
                    "address": ADDRESS,
                    "email": "ann@example.com",
                    "payment_methods": {"gift_card_1": {"source": "gift_card", "balance": 20, "id": "gift_card_1"}},
                    "orders": ["#W1", "#W2"],
                }
            },
            "orders": {"#W1": order("#W1", "pending"), "#W2": order("#W2", "delivered")},
            "products": {
                "p2": {
                    "name": "Mug",
                    "product_id": "p2",
                    "variants": {
                        "m1": {"item_id": "m1", "options": {"color": "white"}, "available": True, "price": 5.0},
                        "m2": {"item_id": "m2", "options": {"color": "black"}, "available": True, "price": 7.25},
                    },
                }
            },
        }
    )


CANCEL = GoldAction(name="cancel_pending_order", kwargs={"order_id": "#W1", "reason": "no longer needed"})
TASK = RetailTask(
    task_id="t-cancel",
    user_id="ann_1",
    instruction="Your email is ann@example.com. Cancel order #W1, you no longer need it. Ask what the gift card holds.",
    actions=[CANCEL],
    outputs=["25"],  # the gift card balance after the refund: 20 + 5
)
FIND = ("find_user_id_by_email", {"email": "ann@example.com"})
DETAILS = ("get_order_details", {"order_id": "#W1"})


# ---- task files and scoring --------------------------------------------------------------------


def test_load_tasks_validates_each_line_and_names_file_and_line(tmp_path: Path) -> None:
    good = {"task_id": "a", "user_id": "u", "instruction": "i", "actions": [{"name": "think", "kwargs": {}}]}
    path = tmp_path / "retail_tasks_x.jsonl"
    path.write_text(json.dumps(good) + "\n\n" + json.dumps({**good, "actions": "none"}) + "\n")
    with pytest.raises(RetailDataError, match=r"retail_tasks_x\.jsonl:3: field 'actions'"):
        load_tasks(path)
    path.write_text(json.dumps(good) + "\n")
    [task] = load_tasks(path)
    assert task.actions == [GoldAction(name="think", kwargs={})] and task.outputs == []
    path.write_text("{not json\n")
    with pytest.raises(RetailDataError, match=r":1: not valid JSON"):
        load_tasks(path)


def test_output_check_ignores_case_and_commas_in_the_reply() -> None:
    assert output_found("1093.34", ["The total is $1,093.34."])
    assert output_found("ANN_1", ["your id is ann_1"])
    assert not output_found("1,093.34", ["The total is $1,093.34."])  # commas are removed from replies only
    assert not output_found("42", ["forty-two"])


def test_score_needs_both_the_gold_state_and_every_output() -> None:
    data = shop()
    gold = replay_actions(TASK, data)
    assert gold.results[0].startswith("{") and gold.errors == []
    assert score_run(TASK, gold.db, ["balance: 25.0"], gold).reward == 1.0
    missing = score_run(TASK, gold.db, ["done"], gold)
    assert (missing.reward, missing.state_match, missing.missing_outputs) == (0.0, True, ["25"])
    untouched = score_run(TASK, data.fresh(), ["balance: 25.0"], gold)
    assert (untouched.reward, untouched.state_differences) == (0.0, ["users/ann_1", "orders/#W1"])


# ---- runner ------------------------------------------------------------------------------------------


async def test_scripted_gold_calls_over_several_rounds_reach_reward_1() -> None:
    balance = ("get_user_details", {"user_id": "ann_1"})
    model = scripted_tool_model([[FIND], [DETAILS], [(CANCEL.name, CANCEL.kwargs)], [balance]], echo_results=True)
    run = await run_task(TASK, data=shop(), model=model)
    assert run.reward == 1.0 and run.error is None
    assert [c.name for c in run.tool_calls] == [
        "find_user_id_by_email",
        "get_order_details",
        "cancel_pending_order",
        "get_user_details",
    ]
    assert run.tool_calls[0].result == "ann_1"
    assert '"balance": 25.0' in run.tool_calls[3].result
    assert run.replies[-1].startswith("Done.")
    assert sum(isinstance(m, ModelResponse) for m in run.messages) == 5  # 4 tool rounds + the final text
    assert run.to_json()["state_match"] is True
    trajectory = run.trajectory()
    assert [c.tool_name for c in trajectory.tool_calls()] == [c.name for c in run.tool_calls]
    assert trajectory.metadata["reward"] == 1.0 and trajectory.metadata["task_id"] == "t-cancel"
    assert trajectory.output == run.replies[-1]


async def test_a_wrong_call_scores_0_and_names_the_differing_record() -> None:
    wrong = (CANCEL.name, {"order_id": "#W1", "reason": "ordered by mistake"})
    run = await run_task(TASK, data=shop(), model=scripted_tool_model([[FIND], [wrong]], final_text="25 left"))
    assert run.reward == 0.0
    assert run.score.state_differences == ["orders/#W1"]  # same refund, different cancel_reason


async def test_a_refused_call_is_an_error_result_the_model_can_recover_from() -> None:
    delivered = (CANCEL.name, {"order_id": "#W2", "reason": "no longer needed"})
    bad_reason = (CANCEL.name, {"order_id": "#W1", "reason": "changed my mind"})
    model = scripted_tool_model([[delivered], [bad_reason], [(CANCEL.name, CANCEL.kwargs)]], final_text="25")
    run = await run_task(TASK, data=shop(), model=model)
    assert [c.is_error for c in run.tool_calls] == [True, True, False]
    assert "only a pending order can be cancelled" in run.tool_calls[0].result
    assert "reason" in run.tool_calls[1].result  # pydantic-ai's retry prompt for the enum
    assert run.reward == 1.0


async def test_the_default_agent_gets_the_policy_and_the_16_tools() -> None:
    seen: list[AgentInfo] = []

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(info)
        return ModelResponse(parts=[TextPart(content="Nothing to do.")])

    run = await run_task(TASK, data=shop(), model=FunctionModel(respond))
    assert run.reward == 0.0 and run.replies == ["Nothing to do."]
    assert seen[0].instructions == RETAIL_POLICY.strip()
    assert len(seen[0].function_tools) == 16
    first = run.messages[0]
    assert isinstance(first, ModelRequest) and isinstance(first.parts[0], UserPromptPart)
    assert first.parts[0].content == TASK.instruction


async def test_agent_factory_usage_limits_and_argument_checks() -> None:
    def loop(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[ToolCallPart(tool_name="think", args={"thought": "hmm"})])

    run = await run_task(
        TASK,
        data=shop(),
        agent_factory=lambda toolset: Agent(FunctionModel(loop), toolsets=[toolset]),
        usage_limits=UsageLimits(request_limit=3),
    )
    assert run.error is not None and run.error.startswith("UsageLimitExceeded")
    assert [c.name for c in run.tool_calls] == ["think"] * 3 and run.reward == 0.0
    assert run.policy_version == "custom"
    with pytest.raises(RetailRunnerError, match="exactly one of model= or agent_factory="):
        await run_task(TASK, data=shop())
    with pytest.raises(RetailRunnerError, match="concurrency must be >= 1"):
        await run_tasks([TASK], data=shop(), model="test", concurrency=0)


async def test_a_simulated_user_continues_the_conversation_on_the_same_database() -> None:
    def agent_turn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        last = messages[-1]
        said = [p.content for p in last.parts if isinstance(p, UserPromptPart)]
        if said == ["yes"]:
            return ModelResponse(parts=[ToolCallPart(tool_name=CANCEL.name, args=CANCEL.kwargs)])
        if said:
            return ModelResponse(parts=[TextPart(content="Cancel #W1 for 'no longer needed'? (yes/no)")])
        return ModelResponse(parts=[TextPart(content="Cancelled; your gift card now holds 25.0.")])

    turns: list[Sequence[str]] = []

    async def user(task: RetailTask, replies: Sequence[str]) -> str | None:
        turns.append(list(replies))
        return "yes" if len(turns) == 1 else "thanks ###STOP###"

    run = await run_task(TASK, data=shop(), model=FunctionModel(agent_turn), user=user)
    assert turns[0] == ["Cancel #W1 for 'no longer needed'? (yes/no)"]
    assert len(turns) == 2 and run.reward == 1.0
    assert run.replies[-1] == "Cancelled; your gift card now holds 25.0."


async def test_run_tasks_keeps_task_order_and_reports_each_run() -> None:
    other = RetailTask(task_id="t-none", user_id="ann_1", instruction="Just asking.", actions=[])
    done: list[str] = []
    runs = await run_tasks(
        [TASK, other],
        data=shop(),
        model_for=lambda task: scripted_tool_model([[(a.name, a.kwargs)] for a in task.actions], final_text="25"),
        concurrency=2,
        on_done=lambda run: done.append(run.task_id),
    )
    assert [r.task_id for r in runs] == ["t-cancel", "t-none"]
    assert [r.reward for r in runs] == [1.0, 1.0]
    assert sorted(done) == ["t-cancel", "t-none"]


async def test_each_run_is_a_chain_span_with_the_task_and_its_reward(spans) -> None:  # type: ignore[no-untyped-def]
    from openinference.semconv.trace import SpanAttributes

    first = await run_task(
        TASK, data=shop(), model=scripted_tool_model([[(CANCEL.name, CANCEL.kwargs)]], final_text="25")
    )
    second = await run_task(TASK, data=shop(), model=scripted_tool_model([], final_text="nothing"))
    span, other = [s for s in spans.get_finished_spans() if s.name == "retail.task"]
    assert first.trace_id == f"{span.context.trace_id:032x}" and second.trace_id == f"{other.context.trace_id:032x}"
    assert first.trace_id != second.trace_id and second.reward == 0.0
    attributes = span.attributes or {}
    assert attributes[SpanAttributes.OPENINFERENCE_SPAN_KIND] == "CHAIN"
    assert attributes[SpanAttributes.INPUT_VALUE] == TASK.instruction
    assert attributes[SpanAttributes.USER_ID] == "ann_1"
    metadata = json.loads(str(attributes[SpanAttributes.METADATA]))
    assert metadata == {
        "environment": "retail",
        "task_id": "t-cancel",
        "trial": 0,
        "user_turns": 1,
        "reward": 1.0,
        "state_match": True,
        "policy_version": "retail-policy@1",
        "error": None,
    }
