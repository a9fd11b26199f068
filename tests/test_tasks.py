"""Typed prompt calls against scripted FunctionModels: validation, retries, errors and spans."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from aiagents.errors import OutputValidationError
from aiagents.examples import ListingAttributes
from aiagents.prompts import parse_prompt
from aiagents.tasks import OUTPUT_TOOL_NAME, Task
from aiagents.tracing import attributes as oi

GOOD = {"title": "Road bike", "category": "bikes", "price": 350, "condition": "like new"}
LISTING = "Road bike, like new. Asking 350 EUR."


def scripted(*responses: dict[str, Any] | str) -> tuple[FunctionModel, list[list[ModelMessage]]]:
    """A model that answers with the given output-tool arguments (or text), one per request."""
    seen: list[list[ModelMessage]] = []
    queue = list(responses)

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(list(messages))
        item = queue.pop(0)
        if isinstance(item, str):
            return ModelResponse(parts=[TextPart(item)])
        assert [t.name for t in info.output_tools] == [OUTPUT_TOOL_NAME]
        return ModelResponse(parts=[ToolCallPart(OUTPUT_TOOL_NAME, item, tool_call_id=f"call-{len(seen)}")])

    return FunctionModel(respond, model_name="scripted"), seen


async def test_valid_output_first_time() -> None:
    model, seen = scripted(GOOD)
    result = await Task("listing-attributes", model=model).run({"listing": LISTING})
    assert result.output == ListingAttributes(**GOOD)
    assert result.attempts == 1
    assert result.usage.requests == 1 and result.usage.input_tokens > 0
    system, user = seen[0][0].parts  # type: ignore[union-attr]
    assert "Categories: bikes" in system.content
    assert user.content.endswith(LISTING)


async def test_invalid_output_is_retried_with_the_validation_error() -> None:
    model, seen = scripted({**GOOD, "category": "bicycles", "price": -3}, GOOD)
    result = await Task("listing-attributes", model=model).run({"listing": LISTING})
    assert result.attempts == 2
    assert result.output.category == "bikes"
    retry = seen[1][-1]
    assert isinstance(retry, ModelRequest)
    part = retry.parts[0]
    assert isinstance(part, ToolReturnPart) and part.outcome == "retried" and part.tool_call_id == "call-1"
    locations = {tuple(e["loc"]) for e in part.content}  # type: ignore[union-attr]
    assert locations == {("category",), ("price",)}


async def test_gives_up_after_retries_with_a_named_error() -> None:
    bad = {**GOOD, "category": "spaceships"}
    model, seen = scripted(bad, bad, bad)
    with pytest.raises(OutputValidationError, match=r"'listing-attributes'.*after 3 attempts.*category") as info:
        await Task("listing-attributes", model=model, retries=2).run({"listing": LISTING})
    assert info.value.attempts == 3
    assert json.loads(info.value.last_output or "{}")["category"] == "spaceships"
    assert len(seen) == 3


async def test_text_answer_with_json_is_accepted_and_plain_text_is_retried() -> None:
    model, _ = scripted("Sure! " + json.dumps(GOOD))
    assert (await Task("listing-attributes", model=model).run({"listing": LISTING})).output.price == 350
    model, seen = scripted("I think it's a bike.", GOOD)
    result = await Task("listing-attributes", model=model).run({"listing": LISTING})
    assert result.attempts == 2
    assert "final_result" in seen[1][-1].parts[0].content  # type: ignore[union-attr]


async def test_plain_text_task_and_scalar_output() -> None:
    prompt = parse_prompt("---\nname: echo\nvariables:\n  text:\n---\nRepeat: {{ text }}\n")
    model, _ = scripted("hello")
    assert (await Task(prompt, model=model).run({"text": "hello"})).output == "hello"

    class Score(BaseModel):
        value: int

    model, _ = scripted({"response": 7})
    assert (await Task(prompt, int, model=model).run({"text": "x"})).output == 7
    model, _ = scripted({"value": 3})
    assert (await Task(prompt, Score, model=model).run({"text": "x"})).output == Score(value=3)


async def test_offline_model_extracts_the_listing() -> None:
    result = await Task("listing-attributes").run({"listing": LISTING})
    assert result.model == "offline"
    assert result.output == ListingAttributes(
        title="Road bike, like new", category="bikes", price=350, condition="like new"
    )


async def test_every_call_is_one_chain_span_with_llm_children(spans) -> None:  # type: ignore[no-untyped-def]
    model, _ = scripted({**GOOD, "price": "free"}, GOOD)
    task = Task("listing-attributes", model=model)
    result = await task.run({"listing": LISTING}, user_id="u1", session_id="s1")
    finished = [s for s in spans.get_finished_spans() if f"{s.context.trace_id:032x}" == result.trace_id]
    chain = [s for s in finished if s.attributes[oi.SPAN_KIND] == oi.CHAIN]
    llms = [s for s in finished if s.attributes[oi.SPAN_KIND] == oi.LLM]
    assert len(chain) == 1 and len(llms) == 2
    assert all(s.parent is not None and s.parent.span_id == chain[0].context.span_id for s in llms)
    c = chain[0].attributes
    assert json.loads(c[oi.INPUT_VALUE]) == {"listing": LISTING}
    assert json.loads(c[oi.OUTPUT_VALUE])["price"] == 350
    assert c[oi.USER_ID] == "u1" and c[oi.SESSION_ID] == "s1"
    for llm in llms:
        a = llm.attributes
        assert a[oi.PROMPT_TEMPLATE_VERSION] == task.prompt.version
        assert json.loads(a[oi.PROMPT_TEMPLATE_VARIABLES]) == {"listing": LISTING}
        assert a[oi.PROMPT_ID] == "listing-attributes"
        assert a[oi.LLM_MODEL_NAME] == "scripted"
        assert a[oi.LLM_TOKEN_COUNT_PROMPT] > 0 and a[oi.LLM_TOKEN_COUNT_TOTAL] > a[oi.LLM_TOKEN_COUNT_PROMPT]
        assert a["llm.input_messages.0.message.role"] == "system"
        assert a["llm.output_messages.0.message.tool_calls.0.tool_call.function.name"] == OUTPUT_TOOL_NAME
    assert llms[1].attributes["llm.input_messages.3.message.role"] == "tool"  # the retry prompt


async def test_failed_call_marks_the_chain_span_as_error(spans) -> None:  # type: ignore[no-untyped-def]
    model, _ = scripted("no", "no")
    with pytest.raises(OutputValidationError):
        await Task("listing-attributes", model=model, retries=1).run({"listing": LISTING})
    chain = [s for s in spans.get_finished_spans() if s.attributes.get(oi.SPAN_KIND) == oi.CHAIN][-1]
    assert chain.status.status_code.name == "ERROR"
    assert chain.events[0].name == "exception"
