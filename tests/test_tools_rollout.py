"""Tool rollout: on / off / sticky percentage / allow-list by configuration, and the decision on the trace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiagents.tools.base import make_toolset
from aiagents.tools.rollout import (
    ROLLOUT_ENV,
    RolloutConfig,
    RolloutConfigError,
    RolloutToolset,
    ToolRule,
    bucket,
    load_rollout,
)
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from aiagents.agents import PromptAgent, SessionStore

USERS = [f"user-{i}" for i in range(10_000)]


@pytest.mark.parametrize("percent", [10.0, 25.0, 50.0, 90.0])
def test_percentage_share_is_close_to_configured_over_10000_users(percent: float) -> None:
    config = RolloutConfig.from_dict({"search_docs": f"{percent}%"})
    enabled = sum(config.decide(["search_docs"], u).decisions[0].enabled for u in USERS)
    assert abs(enabled / len(USERS) * 100 - percent) <= 1.5


def test_percentage_is_sticky_and_independent_per_tool() -> None:
    config = RolloutConfig.from_dict({"a": "50%", "b": "50%"})
    first = [config.decide(["a", "b"], u).enabled for u in USERS[:2000]]
    again = [config.decide(["a", "b"], u).enabled for u in USERS[:2000]]
    assert first == again
    # independent buckets: about a quarter of users get both tools (not half, as one shared bucket would give)
    both = sum(e == ["a", "b"] for e in first) / 2000
    assert 0.20 < both < 0.30


def test_bucket_is_sha256_of_tool_and_user() -> None:
    import hashlib

    digest = hashlib.sha256(b"search_docs:alice").digest()
    assert bucket("alice", "search_docs") == int.from_bytes(digest[:8], "big") / 2**64 * 100
    assert 0 <= bucket("alice", "x") < 100


def test_on_off_allow_list_and_default() -> None:
    config = RolloutConfig.from_dict(
        {"default": "off", "tools": {"a": "on", "b": {"allow": ["alice", "bob"]}, "c": "off", "d": True}}
    )
    decision = config.decide(["a", "b", "c", "d", "e"], "alice")
    assert decision.enabled == ["a", "b", "d"]
    assert decision.disabled == ["c", "e"]
    meta = decision.as_metadata()
    assert meta["reasons"] == {
        "a": "on for everyone",
        "b": "on the allow-list",
        "c": "switched off",
        "d": "on for everyone",
        "e": "switched off",
    }
    assert config.decide(["b"], "carol").disabled == ["b"]
    assert config.decide(["b"], None).disabled == ["b"]


def test_percentage_without_user_id_is_off() -> None:
    decision = RolloutConfig.from_dict({"a": "99%"}).decide(["a"], None)
    assert decision.decisions[0].enabled is False
    assert "no user id" in decision.decisions[0].reason


@pytest.mark.parametrize(
    ("value", "message"),
    [("sometimes", "'sometimes' is not a rule"), ("150%", "not a rule"), ({"percent": 120}, "less than or equal")],
)
def test_bad_rules_name_the_tool_and_the_problem(value: object, message: str) -> None:
    with pytest.raises(RolloutConfigError, match=message) as info:
        RolloutConfig.from_dict({"tools": {"search_docs": value}}, source="rollout.yaml")
    assert "rollout.yaml: tools.search_docs" in str(info.value)


def test_file_under_data_dir_and_env_override(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_rollout() == RolloutConfig()  # nothing configured: all on
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "tool_rollout.yaml").write_text("tools:\n  a: 25%\n  b: off\n")
    config = load_rollout()
    assert config.rule_for("a") == ToolRule(mode="percent", percent=25.0)
    assert config.rule_for("b").mode == "off"
    monkeypatch.setenv(ROLLOUT_ENV, json.dumps({"b": "on", "c": {"allow": "x, y"}}))
    config = load_rollout()
    assert config.rule_for("a").percent == 25.0
    assert config.rule_for("b").mode == "on"
    assert config.rule_for("c") == ToolRule(mode="allow", users=frozenset({"x", "y"}))


def test_missing_rollout_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RolloutConfigError, match="no such rollout file"):
        load_rollout(tmp_path / "nope.yaml")


def alpha() -> str:
    """Tool alpha."""
    return "a"


def beta() -> str:
    """Tool beta."""
    return "b"


def _offered_tools_model() -> FunctionModel:
    def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[TextPart(",".join(sorted(t.name for t in info.function_tools)))])

    return FunctionModel(fn)


def test_agent_offers_only_rolled_out_tools_and_records_why(spans) -> None:  # type: ignore[no-untyped-def]
    config = RolloutConfig.from_dict({"alpha": "on", "beta": {"allow": ["vip"]}})
    toolset = RolloutToolset(make_toolset([alpha, beta], id="t"), config)
    agent = PromptAgent("docs-agent", toolsets=[toolset], sessions=SessionStore(persist=False))
    vip = agent.run_sync("q", model=_offered_tools_model(), user_id="vip")
    other = agent.run_sync("q", model=_offered_tools_model(), user_id="someone")
    assert vip.output == "alpha,beta"
    assert other.output == "alpha"
    assert other.metadata["tool_rollout"]["disabled"] == ["beta"]
    agent_spans = [s for s in spans.get_finished_spans() if s.attributes.get("openinference.span.kind") == "AGENT"]
    recorded = [json.loads(s.attributes["metadata"])["tool_rollout"] for s in agent_spans]
    assert [r["enabled"] for r in recorded] == [["alpha", "beta"], ["alpha"]]
    assert recorded[1]["reasons"]["beta"] == "not on the allow-list"


def test_configured_approval_defers_calls_until_approved() -> None:
    from pydantic_ai import DeferredToolRequests, DeferredToolResults
    from pydantic_ai.messages import ToolCallPart

    calls: list[str] = []

    def gamma(x: int) -> str:
        """Side effect.

        Args:
            x: A number.
        """
        calls.append(f"gamma {x}")
        return f"did {x}"

    def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if len(messages) == 1:
            return ModelResponse(parts=[ToolCallPart("gamma", {"x": 7}, tool_call_id="g1")])
        return ModelResponse(parts=[TextPart("done")])

    config = RolloutConfig.from_dict({"gamma": {"mode": "on", "approval": True}})
    assert config.rule_for("gamma") == ToolRule(mode="on", approval=True)
    toolset = RolloutToolset(make_toolset([gamma], id="t"), config)
    agent = PromptAgent("docs-agent", toolsets=[toolset], sessions=SessionStore(persist=False))
    paused = agent.run_sync("q", model=FunctionModel(fn), session_id="s", user_id="u")
    assert isinstance(paused.output, DeferredToolRequests) and calls == []
    assert paused.metadata["tool_rollout"]["approval"] == ["gamma"]
    assert paused.metadata["tool_rollout"]["reasons"]["gamma"] == "on for everyone; needs approval"
    done = agent.run_sync(
        None,
        model=FunctionModel(fn),
        session_id="s",
        user_id="u",
        deferred_results=DeferredToolResults(approvals={"g1": True}),
    )
    assert calls == ["gamma 7"] and done.output == "done"
