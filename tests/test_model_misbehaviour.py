"""How real models misbehave, over the real HTTP client against a local OpenAI-wire server: each misbehaviour
is retried where that helps and otherwise fails with a named error that says what the model did; never a
traceback, never a truncated answer accepted."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from aiagents.tools.docs import docs_toolset
from aiagents.tools.docs_agent import docs_agent
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from aiagents.agents import AgentRunFailed, PromptAgent, SessionStore
from aiagents.errors import ModelCallError, OutputValidationError, TruncatedOutputError
from aiagents.examples import ListingAttributes
from aiagents.settings import reset_settings
from aiagents.tasks import OUTPUT_TOOL_NAME, Task
from tests.support.openai_wire import (
    OpenAIWireServer,
    error_reply,
    length_reply,
    raw_tool_call_reply,
    text_reply,
    tool_call_reply,
)

GOOD = {"title": "Road bike", "category": "bikes", "price": 350, "condition": "like new"}
LISTING = {"listing": "Road bike, like new, 350 EUR"}


def model(server: OpenAIWireServer) -> str:
    return f"openai-compatible:smollm@{server.url}"


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIAGENTS_MAX_RETRIES", "1")
    monkeypatch.setenv("AIAGENTS_MODEL_TIMEOUT", "2")
    reset_settings()


async def test_a_context_overflow_is_a_named_error(openai_server: OpenAIWireServer) -> None:
    message = "request (4156 tokens) exceeds the available context size (4096 tokens)"
    openai_server.script(error_reply(400, message))
    with pytest.raises(ModelCallError) as info:
        await Task("listing-attributes", model=model(openai_server)).run(LISTING)
    assert info.value.status == 400 and "4156 tokens" in str(info.value) and "smollm" in str(info.value)


async def test_429_is_retried_then_answers(openai_server: OpenAIWireServer) -> None:
    openai_server.script(error_reply(429, "slow down"), tool_call_reply((OUTPUT_TOOL_NAME, GOOD)))
    result = await Task("listing-attributes", model=model(openai_server)).run(LISTING)
    assert result.output == ListingAttributes(**GOOD) and len(openai_server.requests) == 2


async def test_a_persistent_500_is_a_server_error(openai_server: OpenAIWireServer) -> None:
    openai_server.script(error_reply(500, "boom"), error_reply(500, "boom"))
    with pytest.raises(ModelCallError) as info:
        await Task("listing-attributes", model=model(openai_server)).run(LISTING)
    assert info.value.kind in ("server", "http") and info.value.status == 500


async def test_a_timeout_is_named_not_a_hang(openai_server: OpenAIWireServer) -> None:
    openai_server.script(
        (*tool_call_reply((OUTPUT_TOOL_NAME, GOOD)), 5), (*tool_call_reply((OUTPUT_TOOL_NAME, GOOD)), 5)
    )
    with pytest.raises(ModelCallError) as info:
        await Task("listing-attributes", model=model(openai_server)).run(LISTING)
    assert info.value.kind in ("timeout", "connection")


async def test_a_cut_off_answer_is_never_accepted(openai_server: OpenAIWireServer) -> None:
    openai_server.script(length_reply("The listing is a road bike in like new condi"))
    with pytest.raises(TruncatedOutputError, match="finish_reason=length"):
        await Task("listing-attributes", str, model=model(openai_server)).run(LISTING)


@pytest.mark.parametrize(
    "bad",
    [
        raw_tool_call_reply(OUTPUT_TOOL_NAME, '{"title": "Road bike", "category": '),  # malformed JSON
        raw_tool_call_reply(OUTPUT_TOOL_NAME, json.dumps(GOOD), content="Sure! Here is the result:"),  # prose first
        tool_call_reply(("lookup_price", {"q": "bike"})),  # a tool that does not exist
        tool_call_reply((OUTPUT_TOOL_NAME, {**GOOD, "price": "cheap"})),  # invalid arguments
        text_reply(json.dumps({"type": "object", "properties": {"title": {"type": "string"}}})),  # the schema echoed
    ],
    ids=["malformed-json", "prose-before-call", "unknown-tool", "invalid-args", "schema-echoed"],
)
async def test_bad_structured_output_is_retried_with_the_error(openai_server: OpenAIWireServer, bad) -> None:  # type: ignore[no-untyped-def]
    openai_server.script(bad, tool_call_reply((OUTPUT_TOOL_NAME, GOOD)))
    result = await Task("listing-attributes", model=model(openai_server)).run(LISTING)
    if result.attempts == 1:  # prose before a valid call: the call is used as it is
        assert openai_server.requests and len(openai_server.requests) == 1
    else:
        second = openai_server.requests[1]["messages"]
        assert any(m["role"] in ("tool", "user") for m in second[2:])  # the error went back to the model
    assert result.output == ListingAttributes(**GOOD)


async def test_bad_output_every_time_names_what_the_model_did(openai_server: OpenAIWireServer) -> None:
    openai_server.script(*(text_reply("I cannot help with that.") for _ in range(3)))
    with pytest.raises(OutputValidationError, match="after 3 attempts") as info:
        await Task("listing-attributes", model=model(openai_server)).run(LISTING)
    assert info.value.last_output == "I cannot help with that."


async def test_an_agent_tool_error_goes_back_to_the_model() -> None:
    class BrokenIndexSearch:
        def search(self, query, k=5, mode="hybrid", filters=None):  # type: ignore[no-untyped-def]
            raise ValueError("invalid JSON path metadata.refunds.md#3")

    calls: list[str] = []

    def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        calls.append("x")
        if len(calls) == 1:
            return ModelResponse(
                parts=[ToolCallPart("search_docs", {"query": "refund", "filters": {"refunds.md#3": 1}})]
            )
        return ModelResponse(
            parts=[ToolCallPart("final_result", {"answer": "no filter", "found_answer": False, "confidence": 0.1})]
        )

    agent = docs_agent(BrokenIndexSearch(), structured=True, sessions=SessionStore(persist=False))
    result = await agent.run("refund?", model=FunctionModel(fn))
    retry = [s for s in result.trajectory.steps if "Search failed" in json.dumps(s.__dict__, default=str)]
    assert retry, "the tool's error should reach the model as a retry"
    assert len(calls) == 2


async def test_an_agent_cut_off_answer_fails_by_name(openai_server: OpenAIWireServer) -> None:
    openai_server.script(length_reply("Refunds take fourteen da"))
    agent = PromptAgent("docs-agent", toolsets=[docs_toolset(object())], sessions=SessionStore(persist=False))  # type: ignore[arg-type]
    with pytest.raises(AgentRunFailed, match="finish_reason=length"):
        await agent.run("How long do refunds take?", model=model(openai_server))


def test_the_cli_says_what_the_model_did_without_a_traceback(openai_server: OpenAIWireServer) -> None:
    openai_server.script(error_reply(400, "request (4156 tokens) exceeds the available context size (4096 tokens)"))
    env = {**os.environ, "AIAGENTS_MAX_RETRIES": "0"}
    cmd = [sys.executable, "-c", "from aiagents.cli import main; main()", "task", "run", "listing-attributes",
           "Road bike 350 EUR", "--model", model(openai_server), "--json"]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    error = json.loads(done.stdout)["error"]
    assert error["code"] == "model_call" and "context" in error["message"]


async def test_an_agent_asks_an_openai_compatible_server_for_native_json(openai_server: OpenAIWireServer) -> None:
    """A PromptAgent's final answer on an OpenAI-compatible server: the schema as `response_format` (no output
    tool), the answer the JSON text; the tool path stays selectable per prompt or per agent."""
    from aiagents.agents import DocsAnswer

    class Docs:
        def search(self, query, k=5, mode="hybrid", filters=None):  # type: ignore[no-untyped-def]
            return []

    answer = {"answer": "Refunds take 14 days.", "found_answer": True, "references": [], "confidence": 0.6}
    openai_server.script(text_reply(json.dumps(answer)))
    agent = PromptAgent(
        "docs-agent", toolsets=[docs_toolset(Docs())], output_type=DocsAnswer, sessions=SessionStore(persist=False)
    )
    result = await agent.run("How long do refunds take?", model=model(openai_server))
    assert result.output.answer == "Refunds take 14 days."
    body = openai_server.requests[0]
    assert body["response_format"]["type"] == "json_schema"
    assert [t["function"]["name"] for t in body["tools"]] == ["search_docs", "fetch_document"]


@pytest.mark.parametrize("mode", ["native", "prompted"])
async def test_json_output_modes_for_models_that_do_not_call_tools(openai_server: OpenAIWireServer, mode: str) -> None:
    """A small local model echoes a tool schema as text; asked for JSON (the provider's response format, or the
    schema in the instructions) it answers: chosen per call here, or per prompt with `output_mode:`."""
    openai_server.script(text_reply("Here it is: " + json.dumps(GOOD)))
    task = Task("listing-attributes", model=model(openai_server), output_mode=mode)
    result = await task.run(LISTING)
    assert result.output == ListingAttributes(**GOOD) and result.attempts == 1
    body = openai_server.requests[0]
    assert "tools" not in body or not body["tools"]
    if mode == "native":
        assert body["response_format"]["type"] == "json_schema"
        assert set(body["response_format"]["json_schema"]["schema"]["properties"]) == set(GOOD)
    else:
        instructions = json.dumps(body["messages"])
        assert "price" in instructions and "condition" in instructions  # the schema went in the instructions


def test_the_output_mode_from_the_front_matter(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from aiagents.prompts import shipped_prompts_dir

    folder = tmp_path / "prompts"
    folder.mkdir()
    text = (shipped_prompts_dir() / "listing-attributes.md").read_text()
    (folder / "listing-attributes.md").write_text(text.replace("tags:", "output_mode: native\ntags:", 1))
    monkeypatch.setenv("AIAGENTS_PROMPTS_DIR", str(folder))
    reset_settings()
    assert Task("listing-attributes").output_mode == "native"
    assert Task("listing-attributes", output_mode="tool").output_mode == "tool"


def test_the_service_answers_502_saying_what_the_model_did(openai_server: OpenAIWireServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import httpx

    from tests.test_service_support import ADMIN_KEY, CLIENT_KEYS, auth, start_service

    openai_server.script(error_reply(400, "request (4156 tokens) exceeds the available context size (4096 tokens)"))
    env = {"AIAGENTS_MODEL": model(openai_server), "AIAGENTS_MAX_RETRIES": "0"}
    svc = start_service(tmp_path / "data", env=env)
    try:
        r = httpx.post(f"{svc.url}/v1/tasks/listing-attributes", headers=auth(CLIENT_KEYS[0]),
                       json={"input": LISTING}, timeout=60)  # fmt: skip
        assert r.status_code == 502, r.text
        error = r.json()["error"]
        assert error["code"] == "run_failed" and "context" in error["message"] and error["request_id"]
        logged = httpx.get(f"{svc.url}/v1/requests/{error['request_id']}", headers=auth(ADMIN_KEY), timeout=30)
        assert logged.json()["request"]["error_code"] == "run_failed"
    finally:
        svc.stop()
    assert "Traceback" not in svc.log()


def test_the_service_names_every_misbehaviour_and_retries_a_429(openai_server: OpenAIWireServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """One service, one misbehaving model after another: a 429 is retried and answers; a persistent 500, a
    timeout, an answer cut off at the token limit and the schema echoed as text are each a 502 whose message
    says what the model did, logged with the request; no traceback."""
    import httpx

    from tests.test_service_support import ADMIN_KEY, CLIENT_KEYS, auth, start_service

    schema_echo = text_reply(json.dumps({"type": "object", "properties": {"title": {"type": "string"}}}))
    cases = [
        ("429 then an answer", [error_reply(429, "slow down"), tool_call_reply((OUTPUT_TOOL_NAME, GOOD))], 200, ""),
        ("persistent 500", [error_reply(500, "boom")] * 3, 502, "500"),
        ("timeout", [(*tool_call_reply((OUTPUT_TOOL_NAME, GOOD)), 6)] * 3, 502, "timed out"),
        ("cut off", [length_reply('{"title": "Road bike", "categ')] * 4, 502, "finish_reason=length"),
        ("schema echoed", [schema_echo] * 4, 502, "attempts"),
    ]
    env = {"AIAGENTS_MODEL": model(openai_server), "AIAGENTS_MAX_RETRIES": "1", "AIAGENTS_MODEL_TIMEOUT": "2"}
    svc = start_service(tmp_path / "data", env=env)
    seen = []
    try:
        for name, replies, status, said in cases:
            openai_server.replies[:] = list(replies)
            r = httpx.post(f"{svc.url}/v1/tasks/listing-attributes", headers=auth(CLIENT_KEYS[0]),
                           json={"input": LISTING}, timeout=90)  # fmt: skip
            assert r.status_code == status, (name, r.text)
            if status == 200:
                assert r.json()["output"]["title"] == "Road bike"
                continue
            error = r.json()["error"]
            assert said.lower() in error["message"].lower(), (name, error)
            logged = httpx.get(f"{svc.url}/v1/requests/{error['request_id']}", headers=auth(ADMIN_KEY), timeout=30)
            assert logged.json()["request"]["error_code"] == error["code"], name
            seen.append((name, error["code"]))
    finally:
        svc.stop()
    assert len(seen) == 4
    assert "Traceback" not in svc.log()


async def test_an_agent_recovers_from_a_malformed_call_and_an_unknown_tool(openai_server: OpenAIWireServer) -> None:
    """Through the real client: malformed tool-call JSON and a call to a tool that does not exist go back to
    the model as retry prompts; its next answer is used."""

    class Docs:
        def search(self, query, k=5, mode="hybrid", filters=None):  # type: ignore[no-untyped-def]
            return []

    from aiagents.agents import DocsAnswer

    answer = {"answer": "Refunds take 14 days.", "found_answer": True, "references": [], "confidence": 0.6}
    openai_server.script(
        raw_tool_call_reply("search_docs", '{"query": "refund'),  # malformed JSON
        tool_call_reply(("lookup_everything", {"q": "refund"})),  # a tool that does not exist
        tool_call_reply(("final_result", answer)),
    )
    agent = PromptAgent(
        "docs-agent",
        toolsets=[docs_toolset(Docs())],
        output_type=DocsAnswer,
        sessions=SessionStore(persist=False),
        output_mode="tool",  # the final answer through its output tool (native is the default for this server)
    )
    result = await agent.run("How long do refunds take?", model=model(openai_server))
    assert result.output.answer == "Refunds take 14 days." and len(openai_server.requests) == 3
    retries = [m for m in openai_server.requests[2]["messages"] if m["role"] == "tool"]
    assert any("lookup_everything" in str(m["content"]) for m in retries)


def test_an_eval_run_records_a_misbehaving_model_per_case(openai_server: OpenAIWireServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`aiagents eval run` against a model that fails on one case and answers the other: the failing case is
    an error naming what the model did, the other is scored; the run finishes with its report."""
    dataset = tmp_path / "listings.yaml"
    dataset.write_text(
        "name: listings\ntask: listing-attributes\ncases:\n"
        '  - {name: bike, inputs: {listing: "Road bike, like new, 350 EUR"}, expected_output: {title: Road bike}}\n'
        '  - {name: sofa, inputs: {listing: "Sofa, 80 EUR"}, expected_output: {title: Sofa}}\n'
    )
    overflow = error_reply(400, "request (9000 tokens) exceeds the available context size (4096 tokens)")
    openai_server.script(tool_call_reply((OUTPUT_TOOL_NAME, GOOD)), overflow, overflow)
    env = {**os.environ, "AIAGENTS_MAX_RETRIES": "0", "AIAGENTS_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, "-m", "aiagents", "eval", "run", str(dataset), "--model", model(openai_server),
         "--concurrency", "1", "--no-push", "--json"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    report = json.loads(done.stdout[done.stdout.find("{") :])
    assert (report["cases"], report["completed"], report["errors"]) == (2, 1, 1), report
    (example,) = report["error_examples"]
    assert "sofa" in json.dumps(example) and "context size" in json.dumps(example) and "smollm" in json.dumps(example)


async def test_the_configured_output_mode_applies_where_the_prompt_does_not_say(
    openai_server: OpenAIWireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AIAGENTS_OUTPUT_MODE (and so `eval run --output-mode`) overrides the per-model default: here the output
    tool on an OpenAI-compatible server, whose default is native."""
    monkeypatch.setenv("AIAGENTS_OUTPUT_MODE", "tool")
    reset_settings()
    openai_server.script(tool_call_reply((OUTPUT_TOOL_NAME, GOOD)))
    result = await Task("listing-attributes", model=model(openai_server)).run(LISTING)
    assert result.output == ListingAttributes(**GOOD)
    body = openai_server.requests[0]
    assert "response_format" not in body and body["tools"][0]["function"]["name"] == OUTPUT_TOOL_NAME
    bad = subprocess.run(
        [sys.executable, "-m", "aiagents", "eval", "run", "listing-attributes", "--output-mode", "json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and "use tool, native or prompted" in bad.stderr
