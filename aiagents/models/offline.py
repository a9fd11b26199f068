"""The offline model: a deterministic policy behind pydantic-ai's `FunctionModel`.

It needs no key and no network, so demos and tests run anywhere. It is a *baseline*, clearly named
`offline-baseline` in traces and logs: structured output is filled by heuristics from the input,
agents search with the question and answer extractively from the results, citing sources. With a toolset
that has no search tool, it calls the tool whose name and description share most words with the question
(arguments filled from the question), so offline agent evals on any toolset give a signal. As a simulated
user (instructions starting with `SIMULATED_USER_ROLE`) it states its brief, then ends the conversation.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic_ai.messages import (
    BinaryContent,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.tools import ToolDefinition

from aiagents.media import embedded_description
from aiagents.models.extractive import Source, answer_extractively, parse_sources
from aiagents.models.schema_fill import fill_schema

__all__ = ["OFFLINE_MODEL_NAME", "SIMULATED_USER_ROLE", "OfflineModel", "offline_policy"]

OFFLINE_MODEL_NAME = "offline-baseline"
SIMULATED_USER_ROLE = "You are a user talking to a customer-service agent. Your brief:"
"""How a simulated user's instructions start (`aiagents.tools.environment.ModelUser`): offline, the baseline
plays the simplest tau-bench user, who states the brief and then ends the conversation."""
STOP_TOKEN = "###STOP###"


class OfflineModel(FunctionModel):
    """pydantic-ai model running `offline_policy`."""

    def __init__(self) -> None:
        super().__init__(offline_policy, model_name=OFFLINE_MODEL_NAME)

    @property
    def system(self) -> str:
        return "offline"


def offline_policy(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Decide the next response from the conversation so far (see module docstring)."""
    if (info.instructions or "").startswith(SIMULATED_USER_ROLE):
        return _simulated_user(messages, info.instructions or "")
    prompt = _last_user_text(messages)
    returns = _tool_returns_since_last_prompt(messages)
    search_tool = _search_tool(info.function_tools)
    if search_tool is not None and not returns:
        return ModelResponse(parts=[ToolCallPart(search_tool.name, _search_args(search_tool, _question(prompt)))])
    other = None if search_tool is not None or returns else _best_tool(info.function_tools, _question(prompt))
    if other is not None:  # any toolset: the tool whose name and description share most words with the question
        args = fill_schema(other.parameters_json_schema, _question(prompt))
        return ModelResponse(parts=[ToolCallPart(other.name, args)])
    search_tool = search_tool or (_best_tool(info.function_tools, _question(prompt)) if returns else None)
    sources = [s for r in returns for s in _sources_from_return(r)] or parse_sources(prompt)
    if sources or search_tool is not None:
        answer = answer_extractively(_question(prompt), sources)
        if info.output_tools:
            tool = info.output_tools[0]
            args = fill_schema(tool.parameters_json_schema, answer.text)
            props = tool.parameters_json_schema.get("properties", {})
            args.update({k: v for k, v in _answer_fields(answer).items() if k in props})
            return ModelResponse(parts=[ToolCallPart(tool.name, args)])
        return ModelResponse(parts=[TextPart(answer.text)])
    subject = _subject(prompt)
    if info.output_tools:
        tool = info.output_tools[0]
        return ModelResponse(parts=[ToolCallPart(tool.name, fill_schema(tool.parameters_json_schema, subject))])
    output_object = info.model_request_parameters.output_object
    if output_object is not None:  # native or prompted output: the JSON object as the answer text
        return ModelResponse(parts=[TextPart(json.dumps(fill_schema(output_object.json_schema, subject)))])
    return ModelResponse(parts=[TextPart(subject)])


def _subject(prompt: str) -> str:
    """The input inside a rendered prompt: its last paragraph (shipped prompts put the input last)."""
    paragraphs = [p.strip() for p in prompt.strip().split("\n\n") if p.strip()]
    return paragraphs[-1] if paragraphs else ""


def _answer_fields(answer: Any) -> dict[str, Any]:
    return {
        "answer": answer.text,
        "found_answer": answer.found,
        "references": answer.references,
        "citations": answer.references,
        "confidence": answer.confidence,
    }


def _last_user_text(messages: list[ModelMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            for part in reversed(message.parts):
                if isinstance(part, UserPromptPart):
                    if isinstance(part.content, str):
                        return part.content
                    return "\n\n".join(_describe(c) for c in part.content)
    return ""


def _describe(item: Any) -> str:
    """Text for one content item. The baseline cannot see pixels: an image is what it says about itself
    (embedded PNG text / EXIF description), else words from its file name."""
    if isinstance(item, str):
        return item
    if isinstance(item, BinaryContent):
        described = embedded_description(item.data) if item.is_image else ""
        if described:
            return described
        name = item.identifier if item.identifier and not re.fullmatch(r"[0-9a-f]{6}", item.identifier) else ""
        return re.sub(r"[-_.]+", " ", name).strip()
    return ""


def _tool_returns_since_last_prompt(messages: list[ModelMessage]) -> list[ToolReturnPart]:
    returns: list[ToolReturnPart] = []
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            if any(isinstance(p, UserPromptPart) for p in message.parts):
                break
            returns = [p for p in message.parts if isinstance(p, ToolReturnPart)] + returns
    return returns


def _search_tool(tools: list[ToolDefinition]) -> ToolDefinition | None:
    for tool in tools:
        props = tool.parameters_json_schema.get("properties", {})
        if ("search" in tool.name or "retriev" in tool.name) and "query" in props:
            return tool
    return None


_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "from",
        "that",
        "this",
        "what",
        "when",
        "where",
        "which",
        "who",
        "how",
        "are",
        "was",
        "were",
        "you",
        "your",
        "our",
        "has",
        "have",
        "does",
        "did",
        "can",
        "will",
        "not",
        "all",
        "any",
        "its",
        "into",
        "about",
        "give",
        "tell",
        "show",
    ]
)


def _simulated_user(messages: list[ModelMessage], instructions: str) -> ModelResponse:
    """The simplest simulated user: its brief as the first message, then the stop token."""
    if any(isinstance(m, ModelResponse) for m in messages):
        return ModelResponse(parts=[TextPart(STOP_TOKEN)])
    brief = instructions[len(SIMULATED_USER_ROLE) :].split("\nRules:", 1)[0].strip()
    return ModelResponse(parts=[TextPart(brief)])


def _words(text: str) -> set[str]:
    return {w.rstrip("s") for w in re.findall(r"[a-z]{3,}", text.lower()) if w not in _STOP}


def _best_tool(tools: list[ToolDefinition], question: str) -> ToolDefinition | None:
    """The tool sharing most words (name and description) with the question; None when none shares any."""
    asked = _words(question)
    scored = [
        (len(asked & _words(f"{t.name.replace('_', ' ')} {t.description or ''}")), i, t) for i, t in enumerate(tools)
    ]
    best = max(scored, default=None, key=lambda s: (s[0], -s[1]))
    return best[2] if best is not None and best[0] > 0 else None


def _search_args(tool: ToolDefinition, question: str) -> dict[str, Any]:
    return {"query": question}


def _question(prompt: str) -> str:
    """The question inside a rendered prompt: the text after 'Question:' if the prompt labels it."""
    for line in prompt.splitlines():
        if line.lower().startswith("question:"):
            return line.split(":", 1)[1].strip()
    return prompt.strip()


def _sources_from_return(part: ToolReturnPart) -> list[Source]:
    content = part.content
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError:
            return parse_sources(content) or [Source(id=part.tool_name, text=content)]
    if isinstance(content, dict):
        content = content.get("hits") or content.get("results") or content.get("documents") or [content]
    sources = []
    for item in content if isinstance(content, list) else []:
        item = item if isinstance(item, dict) else getattr(item, "__dict__", {})
        if "text" in item:
            sources.append(Source(id=str(item.get("id", len(sources))), text=str(item["text"])))
    return sources
