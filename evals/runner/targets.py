"""What an eval runs: any async callable `inputs -> output`, with adapters for `Task` and duck-typed objects.

A `Target` also says what identifies its model calls (name, model, prompt versions), which is what the
call cache keys on, and how its output becomes JSON (results files) and back (cache hits).
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter

from aiagents.errors import UserError
from aiagents.tasks import Task
from aiagents.trajectory import Trajectory

__all__ = ["Target", "TargetOutput", "as_target", "task_target", "to_jsonable"]


@dataclass(kw_only=True)
class TargetOutput:
    """What a target may return instead of a bare output, to report usage too."""

    output: Any
    """The output the evaluators judge."""
    usage: dict[str, Any] = field(default_factory=dict)
    """Requests, tokens and cost of the call (`CallUsage` fields)."""
    trace_id: str | None = None
    """Trace id of the target's own root span, when it has one."""


@dataclass(kw_only=True)
class Target:
    """An async callable with the identity of its model calls."""

    fn: Callable[[Any], Awaitable[Any]]
    """`await fn(case.inputs)` -> output or `TargetOutput`."""
    name: str
    """Shown in results; part of the cache key."""
    model: str | None = None
    """The model name the target calls (part of the cache key)."""
    prompt_versions: dict[str, str] = field(default_factory=dict)
    """Prompt name -> version the target renders (part of the cache key)."""
    cacheable: bool = False
    """Whether outputs may be served from the call cache (deterministic given the key)."""
    decode: Callable[[Any], Any] | None = None
    """JSON (from the cache) -> output object; None keeps the JSON."""

    async def __call__(self, inputs: Any) -> Any:
        return await self.fn(inputs)


def to_jsonable(value: Any) -> Any:
    """Plain JSON data for a results file: pydantic models, dataclasses, trajectories, containers."""
    if isinstance(value, TargetOutput):
        value = value.output
    if isinstance(value, Trajectory):
        import json

        return json.loads(value.to_json())
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        try:
            return TypeAdapter(type(value)).dump_python(value, mode="json")
        except Exception:  # noqa: BLE001 - fall back to the field dict for types pydantic cannot describe
            return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _task_inputs(task: Task[Any], inputs: Any) -> dict[str, Any]:
    if isinstance(inputs, Mapping):
        return dict(inputs)
    names = task.prompt.text_variables
    if len(names) == 1:
        return {names[0]: inputs}
    raise UserError(
        f"Prompt {task.prompt.name!r} takes variables {names}; give each case's inputs as a mapping of them."
    )


def task_target(task: Task[Any], *, model: str | None = None) -> Target:
    """A `Task` as a target: inputs are the prompt variables (a bare string fills a single variable)."""
    resolved = task.resolve(model)
    adapter: TypeAdapter[Any] = TypeAdapter(task.output_type)

    async def call(inputs: Any) -> TargetOutput:
        result = await task.run(_task_inputs(task, inputs), model=model)
        return TargetOutput(output=result.output, usage=dataclasses.asdict(result.usage), trace_id=result.trace_id)

    return Target(
        fn=call,
        name=f"task:{task.prompt.name}",
        model=resolved.name,
        prompt_versions={task.prompt.name: task.prompt.version},
        cacheable=True,
        decode=adapter.validate_python,
    )


def _wrap_callable(fn: Callable[..., Any]) -> Callable[[Any], Awaitable[Any]]:
    if inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(type(fn).__call__):
        return fn

    async def call(inputs: Any) -> Any:
        result = await asyncio.to_thread(fn, inputs)
        return await result if inspect.isawaitable(result) else result

    return call


def as_target(obj: Any, *, model: str | None = None, name: str | None = None) -> Target:
    """A `Target` from a `Target`, a `Task`, an object with an async `ask`/`run` method, or a callable.

    Plain callables are not cached (their identity is unknown); wrap them in `Target(cacheable=True, ...)`
    with a model and prompt versions to cache them.
    """
    if isinstance(obj, Target):
        return obj
    if isinstance(obj, Task):
        return task_target(obj, model=model)
    for method in ("ask", "run"):
        fn = getattr(obj, method, None)
        if callable(fn) and not isinstance(obj, type):
            return Target(fn=_wrap_callable(fn), name=name or f"{type(obj).__name__}.{method}", model=model)
    if callable(obj):
        return Target(fn=_wrap_callable(obj), name=name or getattr(obj, "__name__", type(obj).__name__), model=model)
    raise UserError(
        f"Cannot run {type(obj).__name__!r} as an eval target: pass an async callable `inputs -> output`, "
        "a Task, or an object with an async `ask` or `run` method."
    )
