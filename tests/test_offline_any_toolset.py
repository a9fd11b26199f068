"""The offline baseline gives a signal on any toolset (it calls the tool whose name and description match the
question, with arguments from it), and a recorded trajectory replays through the `replay:FILE` model string."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_ai import Agent

from aiagents.errors import UnknownModelError
from aiagents.models import resolve_model
from aiagents.models.offline import OfflineModel
from aiagents.trajectory import Trajectory


def get_order_status(order_id: str) -> str:
    """Get the delivery status of an order."""
    return f"order {order_id}: shipped yesterday, arriving Friday"


def cancel_subscription(user: str) -> str:
    """Cancel a user's subscription."""
    return "cancelled"


def _calls(result) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    return [(p.tool_name, p.args) for m in result.all_messages() for p in m.parts if p.part_kind == "tool-call"]


def test_the_offline_model_picks_the_matching_tool_and_an_id_argument() -> None:
    agent = Agent(OfflineModel(), tools=[get_order_status, cancel_subscription])
    result = agent.run_sync("What is the status of order W123?")
    assert _calls(result) == [("get_order_status", {"order_id": "W123"})]
    assert "arriving Friday" in result.output
    other = agent.run_sync("Please cancel my subscription")
    assert [name for name, _ in _calls(other)] == ["cancel_subscription"]
    unrelated = agent.run_sync("Hello there")
    assert _calls(unrelated) == []  # no tool shares a word with the question: it answers without one


def test_a_recorded_trajectory_replays_by_model_string(tmp_path: Path) -> None:
    agent = Agent(OfflineModel(), tools=[get_order_status])
    recorded = agent.run_sync("What is the status of order W9?")
    path = tmp_path / "run.json"
    Trajectory.from_messages(recorded.all_messages(), output=recorded.output).save(path)
    replay = resolve_model(f"replay:{path}")
    assert replay.provider == "replay"
    again = Agent(replay.model, tools=[get_order_status]).run_sync("What is the status of order W9?")
    assert _calls(again) == _calls(recorded) and again.output == recorded.output
    with pytest.raises(UnknownModelError, match="cannot replay"):
        resolve_model(f"replay:{tmp_path / 'missing.json'}")
