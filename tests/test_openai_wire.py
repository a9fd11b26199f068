"""The provider path over real HTTP: a local server speaking the Chat Completions wire format."""

from __future__ import annotations

import json

import pytest
from pydantic_ai import Agent
from pydantic_ai.exceptions import ModelHTTPError

from aiagents.errors import ModelCallError
from aiagents.examples import ListingAttributes
from aiagents.models import resolve_model
from aiagents.tasks import OUTPUT_TOOL_NAME, Task
from tests.support.openai_wire import OpenAIWireServer, error_reply, text_reply, tool_call_reply

GOOD = {"title": "Road bike", "category": "bikes", "price": 350, "condition": "like new"}


def model_for(server: OpenAIWireServer) -> str:
    return f"openai-compatible:wire-test-model@{server.url}"


async def test_an_openai_compatible_server_gets_the_schema_as_response_format(openai_server: OpenAIWireServer) -> None:
    """Native output is the default for OpenAI-compatible servers (small open models seldom call an output tool,
    and the servers enforce a JSON schema); the answer is the JSON text."""
    openai_server.script(text_reply(json.dumps(GOOD)))
    result = await Task("listing-attributes", model=model_for(openai_server)).run({"listing": "Road bike, 350 EUR"})
    assert result.output == ListingAttributes(**GOOD)
    body = openai_server.requests[0]
    assert "tools" not in body
    schema = body["response_format"]["json_schema"]
    assert body["response_format"]["type"] == "json_schema" and schema["name"] == OUTPUT_TOOL_NAME
    assert set(schema["schema"]["properties"]) == {"title", "category", "price", "condition"}


async def test_structured_output_through_the_wire(openai_server: OpenAIWireServer) -> None:
    openai_server.script(tool_call_reply((OUTPUT_TOOL_NAME, GOOD), usage=(123, 17)))
    task = Task("listing-attributes", model=model_for(openai_server), output_mode="tool")
    result = await task.run({"listing": "Road bike, 350 EUR"})
    assert result.output == ListingAttributes(**GOOD)
    assert (result.usage.input_tokens, result.usage.output_tokens) == (123, 17)
    body = openai_server.requests[0]
    assert body["model"] == "wire-test-model"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][1]["content"].endswith("Road bike, 350 EUR")
    tool = body["tools"][0]["function"]
    assert tool["name"] == OUTPUT_TOOL_NAME
    assert set(tool["parameters"]["properties"]) == {"title", "category", "price", "condition"}
    assert body["temperature"] == 0  # the prompt's parameters reach the provider


async def test_validation_retry_goes_back_over_the_wire(openai_server: OpenAIWireServer) -> None:
    openai_server.script(
        tool_call_reply((OUTPUT_TOOL_NAME, {**GOOD, "price": "cheap"})), tool_call_reply((OUTPUT_TOOL_NAME, GOOD))
    )
    result = await Task("listing-attributes", model=model_for(openai_server)).run({"listing": "bike"})
    assert result.attempts == 2 and result.output.price == 350
    retry = openai_server.requests[1]["messages"][-1]
    assert retry["role"] == "tool" and "price" in retry["content"]


async def test_429_and_500_are_retried(openai_server: OpenAIWireServer) -> None:
    openai_server.script(error_reply(429), error_reply(500), tool_call_reply((OUTPUT_TOOL_NAME, GOOD)))
    result = await Task("listing-attributes", model=model_for(openai_server)).run({"listing": "bike"})
    assert result.output.title == "Road bike"
    assert len(openai_server.requests) == 3
    assert result.attempts == 1  # transport retries are not validation attempts


async def test_persistent_server_error_is_raised_after_retries(openai_server: OpenAIWireServer) -> None:
    openai_server.script(*(error_reply(500, "boom") for _ in range(4)))
    with pytest.raises(ModelCallError, match="answered 500") as info:
        await Task("listing-attributes", model=model_for(openai_server)).run({"listing": "bike"})
    assert len(openai_server.requests) == 4  # 1 + max_retries (3)
    assert info.value.kind == "server" and isinstance(info.value.__cause__, ModelHTTPError)


async def test_agent_tool_calls_over_several_rounds(openai_server: OpenAIWireServer) -> None:
    prices = {"bike": 350, "lamp": 12}
    agent = Agent(resolve_model(model_for(openai_server)).model, instructions="Answer with prices.")

    @agent.tool_plain
    def get_price(item: str) -> int:
        """Price of an item in euros."""
        return prices[item]

    openai_server.script(
        tool_call_reply(("get_price", {"item": "bike"})),
        tool_call_reply(("get_price", {"item": "lamp"})),
        text_reply("The bike costs 350 EUR and the lamp 12 EUR."),
    )
    result = await agent.run("What do the bike and the lamp cost?")
    assert result.output == "The bike costs 350 EUR and the lamp 12 EUR."
    assert len(openai_server.requests) == 3
    second, third = openai_server.requests[1]["messages"], openai_server.requests[2]["messages"]
    assert second[-1] == {"role": "tool", "tool_call_id": "call_0_get_price", "content": "350"}
    assert third[-1]["content"] == "12"
    assert [t["function"]["name"] for t in openai_server.requests[0]["tools"]] == ["get_price"]
    assert json.loads(third[-2]["tool_calls"][0]["function"]["arguments"]) == {"item": "lamp"}
    assert result.usage.requests == 3
