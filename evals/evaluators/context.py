"""Where evaluators find what they judge in a pydantic-evals `EvaluatorContext`.

- the trajectory: `ctx.output` when it is a `Trajectory`, else `ctx.output.trajectory`, else
  `ctx.metadata["trajectory"]`;
- expected tool calls and documents: the evaluator's own field when set, else the case metadata keys
  `expected_trajectory` / `expected_documents` (what `evals.Dataset.to_pydantic_evals()` writes);
- retrieved ids: a list of ids or hits in `ctx.output` (or `ctx.output.hits`), else the retrieval tool
  results of the trajectory.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiagents.evals.matching import ExpectedCall
from pydantic_evals.evaluators import EvaluatorContext
from pydantic_evals.otel._errors import SpanTreeRecordingError

from aiagents.trajectory import Trajectory

__all__ = [
    "EXPECTED_DOCUMENTS_KEY",
    "EXPECTED_TRAJECTORY_KEY",
    "TRAJECTORY_KEY",
    "expected_calls",
    "expected_documents",
    "ids_in",
    "make_context",
    "retrieved_ids",
    "trajectory_of",
]

EXPECTED_TRAJECTORY_KEY = "expected_trajectory"
EXPECTED_DOCUMENTS_KEY = "expected_documents"
TRAJECTORY_KEY = "trajectory"
_ID_KEYS = ("document_id", "id", "doc_id")
_LIST_KEYS = ("hits", "results", "documents", "sources")


def make_context(
    output: Any,
    *,
    expected_output: Any = None,
    inputs: Any = None,
    metadata: Mapping[str, Any] | None = None,
    duration: float = 0.0,
    name: str | None = None,
) -> EvaluatorContext[Any, Any, Any]:
    """An `EvaluatorContext` without a span tree, to run an evaluator directly (tests, pytest helper)."""
    return EvaluatorContext(
        name=name,
        inputs=inputs,
        metadata=dict(metadata or {}),
        expected_output=expected_output,
        output=output,
        duration=duration,
        _span_tree=SpanTreeRecordingError("no span tree: evaluator called directly"),
        attributes={},
        metrics={},
    )


def trajectory_of(ctx: EvaluatorContext[Any, Any, Any]) -> Trajectory | None:
    if isinstance(ctx.output, Trajectory):
        return ctx.output
    t = getattr(ctx.output, "trajectory", None)
    if isinstance(t, Trajectory):
        return t
    t = (ctx.metadata or {}).get(TRAJECTORY_KEY) if isinstance(ctx.metadata, Mapping) else None
    return t if isinstance(t, Trajectory) else None


def _meta(ctx: EvaluatorContext[Any, Any, Any], key: str) -> Any:
    return ctx.metadata.get(key) if isinstance(ctx.metadata, Mapping) else getattr(ctx.metadata, key, None)


def expected_calls(ctx: EvaluatorContext[Any, Any, Any], own: list[ExpectedCall] | None) -> list[ExpectedCall] | None:
    raw = own if own is not None else _meta(ctx, EXPECTED_TRAJECTORY_KEY)
    if raw is None:
        return None
    return [c if isinstance(c, ExpectedCall) else ExpectedCall(**c) for c in raw]


def expected_documents(ctx: EvaluatorContext[Any, Any, Any], own: Mapping[str, int] | None) -> dict[str, int] | None:
    raw = own if own is not None else _meta(ctx, EXPECTED_DOCUMENTS_KEY)
    if raw is None:
        return None
    return dict.fromkeys(raw, 1) if isinstance(raw, list | tuple | set) else dict(raw)


def ids_in(content: Any, id_field: str = "document_id") -> list[str]:
    """Ranked ids in a retrieval result: a list of ids, or of hits (objects or dicts) whose `id_field`
    (falling back to `id`) is read, or a dict holding such a list under `hits`/`results`/`documents`/
    `sources`. Repeats (several chunks of one document) keep their first rank."""
    if isinstance(content, Mapping):
        for k in _LIST_KEYS:
            if isinstance(content.get(k), list):
                return ids_in(content[k], id_field)
        return []
    if hasattr(content, "hits") and isinstance(content.hits, list):
        return ids_in(content.hits, id_field)
    if not isinstance(content, list | tuple):
        return []
    out: list[str] = []
    for item in content:
        if isinstance(item, str):
            out.append(item)
            continue
        for key in (id_field, *_ID_KEYS):
            v = item.get(key) if isinstance(item, Mapping) else getattr(item, key, None)
            if v:
                out.append(str(v))
                break
    return list(dict.fromkeys(out))


def retrieved_ids(
    ctx: EvaluatorContext[Any, Any, Any], retrieval_tools: tuple[str, ...] = (), id_field: str = "document_id"
) -> list[str]:
    """Ranked retrieved ids from the output, else from the trajectory's retrieval tool results in order."""
    direct = ids_in(ctx.output, id_field)
    if direct:
        return direct
    t = trajectory_of(ctx)
    if t is None:
        return []
    out: list[str] = []
    for r in t.tool_results():
        if not r.error and (not retrieval_tools or r.tool_name in retrieval_tools):
            out.extend(ids_in(r.content, id_field))
    return list(dict.fromkeys(out))
