"""Call one tool of a toolset by name, outside a model run: gold replay and state setup.

The call goes through the toolset itself (pydantic-ai validates the arguments against the tool's schema and
applies its timeout), so a replayed action means exactly what the same call from a model means. Errors come
back as text starting with ``"Error:"`` (what the model would read), never as an exception.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from pydantic_ai import FunctionToolset, ModelRetry, RunContext
from pydantic_ai.models.test import TestModel
from pydantic_ai.toolsets import AbstractToolset
from pydantic_ai.usage import RunUsage
from pydantic_core import to_jsonable_python

__all__ = ["ToolCaller", "result_text"]


def result_text(result: Any) -> str:
    """A tool result as the model reads it: strings as they are, anything else as JSON."""
    if isinstance(result, str):
        return result
    return json.dumps(to_jsonable_python(result), ensure_ascii=False)


def _error_text(name: str, error: ValidationError | ModelRetry) -> str:
    if isinstance(error, ModelRetry):
        return f"Error: {error.message}"
    problems = "; ".join(f"{'.'.join(map(str, x['loc'])) or name}: {x['msg']}" for x in error.errors())
    return f"Error: invalid arguments for {name}: {problems}"


class ToolCaller:
    """Calls the tools of one toolset by name (the tool list is read once)."""

    def __init__(self, toolset: AbstractToolset[Any]) -> None:
        self.toolset = toolset
        self._ctx = RunContext(deps=None, model=TestModel(), usage=RunUsage())
        self._tools: dict[str, Any] | None = None

    async def tools(self) -> dict[str, Any]:
        """Tool name -> the toolset's tool."""
        if self._tools is None:
            self._tools = await self.toolset.get_tools(self._ctx)
        return self._tools

    async def call(self, name: str, arguments: dict[str, Any]) -> str:
        """Run tool ``name`` with ``arguments``; the result as text, or ``"Error: ..."``."""
        direct = self._direct(name)
        if direct is not None:
            return self._call_direct(name, direct, arguments)
        tools = await self.tools()
        tool = tools.get(name)
        if tool is None:
            return f"Error: unknown tool {name!r}; the tools are: {', '.join(sorted(tools))}"
        try:
            args = tool.args_validator.validate_python(arguments)
            result = await self.toolset.call_tool(name, args, self._ctx, tool)
        except (ValidationError, ModelRetry) as e:
            return _error_text(name, e)
        return result_text(result)

    def _direct(self, name: str) -> Any:
        """The plain-function tool behind ``name`` when it can be called inline: a sync keyword-argument function
        of a `FunctionToolset`. pydantic-ai runs a sync tool in a worker thread under an anyio timeout, right
        for a live run but about 8x the cost of the whole 520-task retail replay (12.7 s against 1.6 s measured
        with ``bench/retail_replay.py``); a replay is sequential, so the call runs inline instead."""
        if not isinstance(self.toolset, FunctionToolset):
            return None
        tool = self.toolset.tools.get(name)
        if tool is None or tool.prepare is not None:
            return None
        schema = tool.function_schema
        if schema.is_async or schema.positional_fields or schema.var_positional_field:
            return None
        return tool

    def _call_direct(self, name: str, tool: Any, arguments: dict[str, Any]) -> str:
        schema = tool.function_schema
        try:
            args = schema.validator.validate_python(arguments)
            result = schema.function(*([self._ctx] if schema.takes_ctx else []), **args)
        except (ValidationError, ModelRetry) as e:
            return _error_text(name, e)
        return result_text(result)
