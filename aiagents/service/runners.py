"""What each endpoint runs: a prompt task, the RAG pipeline over an index, an agent. Each returns `Served`."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from opentelemetry import trace

from aiagents.errors import PromptNotFoundError, UserError
from aiagents.models import CallUsage
from aiagents.service.errors import ServiceError
from aiagents.tasks import Task

log = logging.getLogger("aiagents.service")
T = TypeVar("T")

__all__ = ["Served", "TaskRunner", "AskRunner", "AgentRunner", "AGENTS", "open_retriever", "agent_available"]


@dataclass(kw_only=True)
class Served:
    """The outcome of one run, whatever ran it."""

    output: Any
    prompt_name: str | None = None
    prompt_version: str | None = None
    model: str | None = None
    usage: CallUsage = field(default_factory=CallUsage)


REFRESH_SECONDS = 1.0
"""How old a looked-up serving version may get: a promotion reaches every worker within about this long."""


class _Recent(Generic[T]):
    """Values looked up again once they are `REFRESH_SECONDS` old (prompt labels move under a running service)."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, T]] = {}

    def fresh(self, key: str) -> T | None:
        item = self._items.get(key)
        return item[1] if item is not None and time.monotonic() - item[0] < REFRESH_SECONDS else None

    def last(self, key: str) -> T | None:
        """The value kept for `key`, however old."""
        item = self._items.get(key)
        return item[1] if item is not None else None

    def keep(self, key: str, value: T) -> T:
        self._items[key] = (time.monotonic(), value)
        return value


class TaskRunner:
    """Runs prompt tasks by name: what the serving label points at (else the prompt file), re-checked about once a
    second, so `aiagents prompts promote` / `rollback` reach every worker within seconds, without a restart."""

    def __init__(self, model: str | None = None) -> None:
        self.model = model
        self._tasks: dict[str, Task[Any]] = {}
        """One `Task` per prompt version (and label model)."""
        self._served: _Recent[Task[Any]] = _Recent()
        self._lock = threading.Lock()

    def _task_of(self, prompt: Any, model: str | None = None, source: str | None = None) -> Task[Any]:
        key = f"{prompt.name}#{prompt.version}#{model or ''}"
        with self._lock:
            task = self._tasks.get(key)
            if task is None:
                task = self._tasks[key] = Task(prompt, model=model)
                task.served_from = source
            return task

    def task(self, name: str) -> Task[Any]:
        """The task serving `name` now (a 404 `ServiceError` for an unknown name)."""
        task = self._served.fresh(name)
        if task is not None:
            return task
        from aiagents.prompts import PromptRegistry

        registry = PromptRegistry()
        try:
            prompt, label_model, source = registry.served(name)
        except PromptNotFoundError:
            last = self._served.last(name)
            if last is not None and name in registry.names():  # a label pointing nowhere: keep what served
                log.error(
                    "prompt %r: its serving label cannot be resolved; still serving %s", name, last.prompt.version
                )
                return self._served.keep(name, last)
            known = ", ".join(registry.names()) or "none"  # names only: no server path in an answer
            raise ServiceError(404, "unknown_task", f"no task named {name!r}; known tasks: {known}") from None
        return self._served.keep(name, self._task_of(prompt, label_model, source))

    def variant_task(self, prompt: str, version: str | None) -> Task[Any]:
        """The task of an experiment variant: another prompt and/or a version, pinned, or a label, resolved
        again about once a second (a variant on `production` follows promotions)."""
        key = f"variant:{prompt}@{version or ''}"
        task = self._served.fresh(key)
        if task is not None:
            return task
        from aiagents.prompts import PromptRegistry

        try:
            resolved = PromptRegistry().resolve(prompt, version)
        except PromptNotFoundError as exc:
            raise ServiceError(500, "variant_misconfigured", f"experiment variant prompt: {exc}") from None
        return self._served.keep(key, self._task_of(resolved))

    async def run(
        self,
        name: str,
        inputs: dict[str, Any],
        *,
        prompt: str | None = None,
        version: str | None = None,
        model: str | None = None,
        **kwargs: Any,
    ) -> Served:
        """Run task `name`; `prompt`/`version`/`model` are an experiment variant's overrides."""
        task = self.variant_task(prompt or name, version) if (prompt or version) else self.task(name)
        current = trace.get_current_span()  # the request's span (`_serve`): the task records on it, no span of its own
        kwargs.setdefault("span", current if current.is_recording() else None)
        result = await task.run(inputs, model=model or task.model or self.model, **kwargs)
        return Served(
            output=result.output_json(),
            prompt_name=result.prompt_name,
            prompt_version=result.prompt_version,
            model=result.model,
            usage=result.usage,
        )


class AskRunner:
    """Answers questions from an index with `aiagents.rag.RagPipeline`; one pipeline per index per process."""

    def __init__(self, model: str | None = None) -> None:
        self.model = model
        self._pipelines: dict[str, Any] = {}
        self._lock = asyncio.Lock()

    async def pipeline(self, index: str) -> Any:
        pipeline = self._pipelines.get(index)
        if pipeline is not None:
            return pipeline
        async with self._lock:
            if index not in self._pipelines:
                self._pipelines[index] = await asyncio.to_thread(self._open, index)
            return self._pipelines[index]

    def _open(self, name: str) -> Any:
        try:
            from aiagents.rag import RagPipeline
        except ImportError as exc:  # the RAG layer has not landed in this install
            raise ServiceError(501, "not_implemented", f"RAG is not available: {exc}") from None
        try:
            return RagPipeline(open_retriever(name), model=self.model)
        except PromptNotFoundError as exc:
            raise ServiceError(501, "not_implemented", f"RAG prompt missing: {exc}") from None

    async def run(self, index: str, question: str, **kwargs: Any) -> Served:
        pipeline = await self.pipeline(index)
        answer = await pipeline.ask(question, **kwargs)
        output = answer.to_json()
        for key in ("trace_id", "prompt", "prompt_version", "model", "usage", "latency_ms"):
            output.pop(key, None)
        return Served(
            output=output,
            prompt_name=answer.prompt_name,
            prompt_version=answer.prompt_version,
            model=answer.model,
            usage=answer.usage,
        )


_RETRIEVERS: dict[str, Any] = {}
_RETRIEVERS_LOCK = threading.Lock()


def open_retriever(name: str) -> Any:
    """A `retrieval.Retriever` over the index `name` (built by `aiagents ingest`), once per process."""
    with _RETRIEVERS_LOCK:
        if name not in _RETRIEVERS:
            _RETRIEVERS[name] = _open_retriever(name)
        return _RETRIEVERS[name]


def _open_retriever(name: str) -> Any:
    from aiagents.retrieval import IndexNotFoundError, Retriever, get_embedder, open_index

    try:
        index = open_index(name)
    except IndexNotFoundError as exc:
        raise ServiceError(404, "unknown_index", str(exc)) from None
    except ValueError as exc:
        raise ServiceError(422, "invalid_index_name", str(exc)) from None
    return Retriever(index, get_embedder())


def agent_available() -> bool:
    """Whether the agents layer (`aiagents.agents`) and the docs tools are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("aiagents.agents", "aiagents.tools.docs"))


AGENTS = {"docs": "docs-agent"}
"""Agent names the service runs -> their prompt."""


class AgentRunner:
    """Runs the docs agent (`aiagents.agents.PromptAgent` with the docs search toolset) over an index.

    Multi-turn through `session_id`: the agent's session store keeps the conversation.
    """

    def __init__(self, model: str | None = None) -> None:
        self.model = model
        self._agents: dict[tuple[str, str, str, str], Any] = {}
        self._versions: _Recent[str] = _Recent()
        self._lock = asyncio.Lock()

    async def agent(self, name: str, index: str, toolset: str | None = None) -> Any:
        """The agent `name` over `index`; `toolset` (an experiment variant's) names the tools it may use."""
        if name not in AGENTS:
            raise ServiceError(404, "unknown_agent", f"no agent named {name!r}; known: {sorted(AGENTS)}")
        key = (name, index, toolset or "", self._served_version(AGENTS[name]))  # a promotion builds a new agent
        if key not in self._agents:
            async with self._lock:
                if key not in self._agents:
                    self._agents[key] = await asyncio.to_thread(self._build, name, index, toolset)
        return self._agents[key]

    def _served_version(self, prompt: str) -> str:
        """The version the serving label gives the agent's prompt, looked up about once a second."""
        version = self._versions.fresh(prompt)
        if version is None:
            from aiagents.prompts import PromptRegistry

            try:
                version = PromptRegistry().served(prompt)[0].version
            except PromptNotFoundError:
                version = ""  # _build says the prompt is missing
            self._versions.keep(prompt, version)
        return version

    def _build(self, name: str, index: str, toolset: str | None = None) -> Any:
        if not agent_available():
            raise ServiceError(
                501, "not_implemented", "the agents layer (aiagents.agents, tools.docs) is not installed"
            )
        from aiagents.tools.docs_agent import docs_agent

        retriever = open_retriever(index)
        names = toolset.split(",") if toolset else None
        try:
            return docs_agent(retriever, tools=names, structured=True, model=self.model)
        except UserError as exc:  # tools the variant names that the agent has not (`ab start` refuses them)
            raise ServiceError(500, "variant_misconfigured", f"experiment variant toolset: {exc}") from None
        except PromptNotFoundError as exc:
            raise ServiceError(501, "not_implemented", f"agent prompt missing: {exc}") from None

    async def run(self, name: str, index: str, message: str, toolset: str | None = None, **kwargs: Any) -> Served:
        agent = await self.agent(name, index, toolset)
        result = await agent.run(message, **kwargs)
        output = result.output
        if hasattr(output, "model_dump"):
            output = output.model_dump(mode="json")
        elif not isinstance(output, str | dict | list | int | float | bool | None):
            output = repr(output)
        usage = CallUsage(
            requests=getattr(result.usage, "requests", 0) or 0,
            input_tokens=getattr(result.usage, "input_tokens", 0) or 0,
            output_tokens=getattr(result.usage, "output_tokens", 0) or 0,
        )
        return Served(
            output=output,
            prompt_name=result.prompt_name,
            prompt_version=result.prompt_version,
            model=result.model,
            usage=usage,
        )
