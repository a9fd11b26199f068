"""The conventions every tool follows, and `make_toolset` that applies them.

A tool is a typed Python function (sync or async): its signature is the argument schema, its docstring
(Google style, one line per argument) is the description the model reads, and pydantic-ai validates the
arguments before the function runs. A call that the model can fix (bad arguments, an id that does not
exist, a timeout) goes back to the model as a retry prompt instead of crashing the run: raise
`ModelRetry` (or `ToolError`, or any exception listed in `retry_on`). Every tool has a timeout.
Side-effecting tools are listed in `approval`: the run then stops with `DeferredToolRequests` until a
person approves or denies each call (see `aiagents.agents.PromptAgent.run(deferred_results=...)`).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from pydantic_ai import FunctionToolset, ModelRetry, Tool

__all__ = ["DEFAULT_TOOL_TIMEOUT_S", "DEFAULT_TOOL_RETRIES", "ToolError", "retry_on", "make_toolset"]

DEFAULT_TOOL_TIMEOUT_S = 10.0
"""Seconds a tool call may take before the model is told it timed out (and may retry)."""
DEFAULT_TOOL_RETRIES = 2
"""How many times the model may retry one tool after an error before the run fails."""

F = TypeVar("F", bound=Callable[..., Any])


class ToolError(ModelRetry):
    """Raise in a tool for a failure the model can act on; its message is sent back as a retry prompt.

    A `ModelRetry` with a name that reads as the tool's own error (tools need not import pydantic-ai).
    """


def retry_on(*exc_types: type[BaseException]) -> Callable[[F], F]:
    """Decorator: turn the listed exceptions (and `ToolError`) raised by a tool into `ModelRetry`.

    The wrapped function keeps its signature and docstring, so its schema and description are unchanged.
    """
    caught = (ToolError, *exc_types)

    def decorate(fn: F) -> F:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await fn(*args, **kwargs)
                except caught as exc:
                    raise ModelRetry(str(exc) or type(exc).__name__) from exc

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except caught as exc:
                raise ModelRetry(str(exc) or type(exc).__name__) from exc

        return wrapper  # type: ignore[return-value]

    return decorate


_SCHEMAS: dict[tuple[Any, ...], Any] = {}
"""Schema key -> pydantic-ai's `FunctionSchema` (its type is private to pydantic-ai)."""
_SCHEMAS_MAX = 4096


def _schema_key(fn: Callable[..., Any]) -> tuple[Any, ...] | None:
    """What a tool's schema depends on: its code, name, docstring, defaults and annotation objects (a closure
    rebuilt per run has the same key; a method bound to another instance too). None: do not cache."""
    plain = getattr(fn, "__func__", fn)
    inner = inspect.unwrap(plain)
    code = getattr(plain, "__code__", None)
    if code is None:
        return None
    try:
        key = (
            code, getattr(inner, "__code__", None), plain.__qualname__, plain.__doc__, inner.__doc__,
            plain.__defaults__, tuple(sorted((plain.__kwdefaults__ or {}).items())),
            tuple((k, id(v)) for k, v in getattr(inner, "__annotations__", {}).items()),
        )  # fmt: skip
        hash(key)
    except TypeError:  # unhashable defaults
        return None
    return key


def _cached_schema(fn: Callable[..., Any]) -> Any:
    """The tool's function schema, built once per kind of function and bound to `fn`.

    pydantic-ai builds the schema (signature, docstring, pydantic validator) for every `Tool`; an environment
    builds its toolset over each run's database, so 16 retail tools cost 18 ms a run and 13 s of the 520-task
    gold replay. The schema depends only on what `_schema_key` names, so it is reused with `fn` swapped in."""
    key = _schema_key(fn)
    if key is None:
        return None
    schema = _SCHEMAS.get(key)
    if schema is None:
        schema = Tool(fn, docstring_format="google", require_parameter_descriptions=True).function_schema
        if len(_SCHEMAS) >= _SCHEMAS_MAX:
            _SCHEMAS.clear()
        _SCHEMAS[key] = schema
    return dataclasses.replace(schema, function=fn)


def make_toolset(
    functions: Sequence[Callable[..., Any] | Tool[Any]],
    *,
    id: str,
    timeout: float | None = DEFAULT_TOOL_TIMEOUT_S,
    max_retries: int = DEFAULT_TOOL_RETRIES,
    approval: Iterable[str] = (),
    timeouts: dict[str, float] | None = None,
    sequential: bool = False,
) -> FunctionToolset[Any]:
    """A pydantic-ai toolset of `functions` with the conventions applied.

    `timeout` applies to every tool, `timeouts` overrides it per tool name; tools named in `approval`
    require a person's approval before they run. Parameter descriptions are read from Google-style
    docstrings and required, so the model sees what each argument means.
    """
    needs_approval = set(approval)
    per_tool = timeouts or {}
    tools: list[Tool[Any]] = []
    for fn in functions:
        if isinstance(fn, Tool):
            tools.append(fn)
            continue
        name = fn.__name__
        tools.append(
            Tool(
                fn,
                name=name,
                max_retries=max_retries,
                docstring_format="google",
                require_parameter_descriptions=True,
                requires_approval=name in needs_approval,
                timeout=per_tool.get(name, timeout),
                sequential=sequential,
                function_schema=_cached_schema(fn),
            )
        )
    unknown = needs_approval - {t.name for t in tools}
    if unknown:
        raise ValueError(f"approval names tools that are not in the toolset: {sorted(unknown)}")
    return FunctionToolset(tools, max_retries=max_retries, timeout=timeout, id=id)
