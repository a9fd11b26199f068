"""A scripted model: fixed tool calls, round by round, then a final answer, from code or a file.

`--model scripted:calls.yaml` (or `.json`) gives agents, evals and the CLI a model that makes exactly the calls a
test or a rehearsal needs, offline:

```yaml
rounds:                      # one list of tool calls per model response
  - [{tool: search_docs, args: {query: refund policy}}]
  - [{tool: fetch_document, args: {id: refunds.md}}]
final: {answer: "Refunds take 14 days.", found_answer: true}   # or a text
```

The final answer goes through the output tool when the run has one (a dict), else as text (a dict as JSON).
The round is counted from the model responses already in the conversation, so one model serves one run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from aiagents.errors import UserError

__all__ = ["load_scripted_model", "scripted_model"]

Call = tuple[str, dict[str, Any]]


def scripted_model(
    rounds: Sequence[Sequence[Call]],
    *,
    final: str | dict[str, Any] = "Done.",
    echo_results: bool = False,
    name: str = "scripted",
) -> FunctionModel:
    """A model that sends ``rounds[i]`` as its i-th response's tool calls, then ``final``.

    With ``echo_results`` a text final answer also quotes every tool result it saw (so values a tool found appear
    in the reply, as a model would repeat them)."""
    script = [list(calls) for calls in rounds]

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        done = sum(isinstance(m, ModelResponse) for m in messages)
        if done < len(script):
            return ModelResponse(
                parts=[
                    ToolCallPart(tool_name=tool, args=dict(args), tool_call_id=f"call_{done}_{i}")
                    for i, (tool, args) in enumerate(script[done])
                ]
            )
        if isinstance(final, dict):
            if info.output_tools:
                return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, dict(final))])
            return ModelResponse(parts=[TextPart(json.dumps(final))])
        text = final
        if echo_results:
            results = [
                str(part.content)
                for m in messages
                for part in getattr(m, "parts", ())
                if isinstance(part, ToolReturnPart)
            ]
            text = "\n".join([final, *results])
        return ModelResponse(parts=[TextPart(text)])

    return FunctionModel(respond, model_name=name)


def load_scripted_model(path: str | Path) -> FunctionModel:
    """The scripted model a YAML or JSON file describes (see the module docstring); errors name file and field."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"{path}: cannot read the script ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML or JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping with 'rounds' (and 'final')")
    rounds: list[list[Call]] = []
    for i, calls in enumerate(data.get("rounds") or []):
        if not isinstance(calls, list):
            raise UserError(f"{path}: rounds[{i}] must be a list of {{tool, args}} calls")
        parsed = []
        for j, call in enumerate(calls):
            if not isinstance(call, dict) or not isinstance(call.get("tool"), str):
                raise UserError(f"{path}: rounds[{i}][{j}] needs a 'tool' name (and 'args')")
            args = call.get("args") or {}
            if not isinstance(args, dict):
                raise UserError(f"{path}: rounds[{i}][{j}].args must be a mapping")
            parsed.append((call["tool"], args))
        rounds.append(parsed)
    final = data.get("final", "Done.")
    if not isinstance(final, str | dict):
        raise UserError(f"{path}: 'final' must be a text or a mapping")
    return scripted_model(
        rounds, final=final, echo_results=bool(data.get("echo_results")), name=f"scripted:{path.name}"
    )
