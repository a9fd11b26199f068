"""One scrubber: configured secrets and key-shaped values out of strings, rows and every exported span (an
agent's pydantic-ai and OpenInference spans included)."""

from __future__ import annotations

import json

import pytest
from aiagents.tools.base import make_toolset
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from aiagents.agents import PromptAgent, SessionStore
from aiagents.secrets import REDACTED, Scrubber, register_secrets, scrubber
from aiagents.settings import reset_settings
from aiagents.tasks import Task

KEY = "sk-test-SECRET-7f3a9c1e"
SERVICE_KEY = "client-key-aaaa1111"


def test_scrubber_replaces_configured_secrets_and_key_shapes() -> None:
    s = Scrubber(["my-own-secret-value", "abc"])  # too short to be a secret: left alone
    text = f"a my-own-secret-value b {KEY} c AKIAABCDEFGHIJKLMNOP d ghp_{'x' * 36} abc"
    assert s.text(text) == f"a {REDACTED} b {REDACTED} c {REDACTED} d {REDACTED} abc"
    nested = {"k": [{"v": KEY}], KEY: ("x", 1, None)}
    assert s.value(nested) == {"k": [{"v": REDACTED}], REDACTED: ["x", 1, None]}
    deep: object = KEY
    for _ in range(1_000):  # deeper than the service accepts: still scrubbed, no RecursionError
        deep = [deep]
    inner = s.value(deep)
    for _ in range(1_000):
        (inner,) = inner
    assert inner == REDACTED


def test_the_process_scrubber_follows_the_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "anthropic-configured-value-42")
    reset_settings()
    register_secrets([SERVICE_KEY])
    s = scrubber()
    assert s.text("x anthropic-configured-value-42 y client-key-aaaa1111") == f"x {REDACTED} y {REDACTED}"


def _leaky(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Passes the key the user gave to a tool, then repeats it in the answer."""
    if not any(isinstance(p, ToolReturnPart) for m in messages for p in getattr(m, "parts", [])):
        return ModelResponse(parts=[ToolCallPart("echo", {"text": f"use {KEY}"})])
    return ModelResponse(parts=[TextPart(f"done with {KEY}")])


def echo(text: str) -> str:
    """Echo text back.

    Args:
        text: What to echo.
    """
    return f"echo: {text}"


def test_no_exported_span_holds_a_key(spans, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    reset_settings()
    agent = PromptAgent("docs-agent", toolsets=[make_toolset([echo], id="t")], sessions=SessionStore(persist=False))
    result = agent.run_sync(f"my key is {KEY}", model=FunctionModel(_leaky))
    assert KEY in str(result.output)  # the caller gets the answer as it is; only what is exported is scrubbed
    Task("listing-attributes").run_sync({"listing": f"Road bike 350 EUR {KEY}"}, model="offline")
    exported = spans.get_finished_spans()
    kinds = {span.attributes.get("openinference.span.kind") for span in exported}
    assert {"AGENT", "LLM", "TOOL", "CHAIN"} <= kinds
    dumped = json.dumps([[dict(s.attributes), [dict(e.attributes or {}) for e in s.events]] for s in exported])
    assert KEY not in dumped
    assert dumped.count(REDACTED) >= 4


def test_every_key_shape_is_redacted_through_the_prefilter() -> None:
    """The substring prefilter never hides a key the patterns match (KEY_PREFIXES in step with KEY_PATTERNS)."""
    import re

    from aiagents.secrets import KEY_PATTERNS, KEY_PREFIXES, REDACTED, Scrubber

    samples = [
        "sk-" + "a" * 20, "sk-ant-" + "b" * 20, "sk-proj-" + "c" * 20, "AKIA" + "D" * 16, "ghp_" + "e" * 36,
        "gho_" + "f" * 36, "ghs_" + "g" * 36, "xoxb-" + "1" * 12, "xoxp-" + "2" * 12, "AIza" + "h" * 35,
    ]  # fmt: skip
    scrub = Scrubber()
    for key in samples:
        assert any(re.search(p, key) for p in KEY_PATTERNS), key
        assert any(prefix in key for prefix in KEY_PREFIXES), key
        assert scrub.text(f"before {key} after") == f"before {REDACTED} after", key
        assert scrub.contains_secret(f"x {key}")
    assert not scrub.contains_secret("a long text about skis, gh and AIs " * 200)


def test_scrub_spans_finds_a_key_anywhere_in_a_batch_and_leaves_a_clean_batch_as_is() -> None:
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.trace import Status, StatusCode

    from aiagents.tracing.scrub import scrub_spans

    key = "sk-" + "A1b2C3d4E5f6G7h8J9k0"
    scrub = Scrubber()
    clean = [ReadableSpan(name=f"s{i}", attributes={"input.value": "hello " * 50, "n": i}) for i in range(3)]
    assert scrub_spans(clean, scrub) is clean  # nothing copied
    where = {
        "attribute": ReadableSpan(name="a", attributes={"x": "ok", "y": f"key {key} here"}),
        "list item": ReadableSpan(name="b", attributes={"tags": ("ok", key)}),
        "event": ReadableSpan(name="c", events=[Event("log", {"message": f"leaked {key}"})]),
        "status": ReadableSpan(name="d", status=Status(StatusCode.ERROR, f"bad key {key}")),
    }
    for place, span in where.items():
        out = scrub_spans([*clean, span], scrub)
        assert out[:3] == clean, place  # untouched spans are passed through
        text = repr((out[3].attributes, [e.attributes for e in out[3].events], out[3].status.description))
        assert key not in text and REDACTED in text, place
    # A key split across two values (joined for the first search) is not a key in either: nothing changes.
    split = [ReadableSpan(name="e", attributes={"a": "sk-", "b": "A1b2C3d4E5f6G7h8J9k0"})]
    assert scrub_spans(split, scrub) is split
