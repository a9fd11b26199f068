"""Online evaluators: pydantic-evals `Evaluator`s that judge a logged request (input, output) with no model call
of the feature under test, and the suites that group them.

A suite is a list of evaluators. Shipped: `default` (schema check, grounded numbers, retrieval relevance).
A YAML file can name any pydantic-evals evaluator by import path (the judge of the evals layer, say):

    evaluators:
      - schema_valid
      - {evaluator: "aiagents.evals.judge:JudgeEvaluator", args: {rubric: "..."}}

(Import paths keep the core free of an import of `evals`: it is resolved when the suite is loaded.)
"""

from __future__ import annotations

import functools
import inspect
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic_evals.evaluators import EvaluationReason, Evaluator, EvaluatorContext
from pydantic_evals.otel._errors import SpanTreeRecordingError

from aiagents.errors import UserError
from aiagents.user_code import import_object

__all__ = [
    "SchemaValid",
    "GroundedNumbers",
    "RetrievalRelevance",
    "OnlineSuiteError",
    "load_suite",
    "SUITES",
    "context_for",
    "evaluate_all",
    "ScoreValue",
]

_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
_WORD = re.compile(r"[a-z0-9]{3,}")
_STOP = frozenset(
    "the and for with what how can does are you your from that this into have has not".split()  # noqa: SIM905
)


class OnlineSuiteError(UserError):
    """An online-eval suite name or file is invalid."""


def context_for(row: dict[str, Any], trajectory: Any = None) -> EvaluatorContext[Any, Any, Any]:
    """An `EvaluatorContext` for one logged request (a log-store row or a `RequestRecord` as a dict)."""
    meta = {
        k: row.get(k)
        for k in ("request_id", "endpoint", "name", "prompt_name", "prompt_version", "model", "variant", "error_code")
    }
    if trajectory is not None:
        meta["trajectory"] = trajectory
    return EvaluatorContext(
        name=row.get("request_id"),
        inputs=row.get("input"),
        metadata=meta,
        expected_output=None,
        output=row.get("output"),
        duration=float(row.get("latency_ms") or 0) / 1000,
        _span_tree=SpanTreeRecordingError("online evals judge logged requests, not spans"),
        attributes={},
        metrics={},
    )


@dataclass
class SchemaValid(Evaluator[Any, Any, Any]):
    """1 when the output validates against the prompt's output model (looked up by prompt name and version)
    or against `schema` (a JSON schema: required keys and their JSON types), else 0."""

    schema: dict[str, Any] | None = None

    def evaluate(self, ctx: EvaluatorContext[Any, Any, Any]) -> EvaluationReason:
        output = ctx.output
        if output is None:
            return EvaluationReason(value=False, reason="no output (the request failed)")
        if self.schema is not None:
            return _check_schema(output, self.schema)
        name = ctx.metadata.get("prompt_name") if ctx.metadata else None
        if not name:
            return EvaluationReason(value=True, reason="no prompt output model to check against")
        try:
            model = _output_model(name, ctx.metadata.get("prompt_version"))
        except Exception as exc:  # noqa: BLE001 - unknown prompt version: say so in the reason
            return EvaluationReason(value=False, reason=f"cannot load the output model of {name!r}: {exc}")
        if model is None:
            return EvaluationReason(value=isinstance(output, str), reason="text prompt")
        try:
            model.model_validate(output)
        except Exception as exc:  # noqa: BLE001 - pydantic ValidationError
            return EvaluationReason(value=False, reason=str(exc).splitlines()[0][:200])
        return EvaluationReason(value=True, reason=f"valid {model.__name__}")


@functools.lru_cache(maxsize=256)
def _output_model(name: str, version: str | None) -> Any:
    """The output model of a prompt version (read once: the registry reads files)."""
    from aiagents.prompts import PromptRegistry

    return PromptRegistry().get(name, version=version).output_type()


def _check_schema(output: Any, schema: dict[str, Any]) -> EvaluationReason:
    types = {"string": str, "number": (int, float), "integer": int, "boolean": bool, "object": dict, "array": list}
    if not isinstance(output, dict):
        return EvaluationReason(value=False, reason="output is not an object")
    for key in schema.get("required", []):
        if key not in output:
            return EvaluationReason(value=False, reason=f"missing {key!r}")
    for key, spec in (schema.get("properties") or {}).items():
        want = types.get(spec.get("type", ""))
        if key in output and want is not None and not isinstance(output[key], want):
            return EvaluationReason(value=False, reason=f"{key!r} is not {spec['type']}")
    return EvaluationReason(value=True, reason="matches the schema")


@dataclass
class GroundedNumbers(Evaluator[Any, Any, Any]):
    """Share of the numbers in the output that also appear in the input (an extraction must not invent a
    price or a size). 1.0 when the output has no number; None-like (skipped) without output."""

    def evaluate(self, ctx: EvaluatorContext[Any, Any, Any]) -> dict[str, Any]:
        if ctx.output is None:
            return {}
        found = {_norm(n) for n in _NUMBER.findall(_text(ctx.inputs))}
        said = [_norm(n) for n in _NUMBER.findall(_text(ctx.output))]
        said = [n for n in said if n not in ("0", "0.0")]  # 0 is a default ("given away"), not a claim
        if not said:
            return {"grounded_numbers": 1.0}
        return {"grounded_numbers": sum(n in found for n in said) / len(said)}


@dataclass
class RetrievalRelevance(Evaluator[Any, Any, Any]):
    """For RAG answers: share of the cited or retrieved passages sharing a content word with the question."""

    def evaluate(self, ctx: EvaluatorContext[Any, Any, Any]) -> dict[str, Any]:
        output = ctx.output if isinstance(ctx.output, dict) else {}
        passages = next((output[k] for k in ("citations", "sources", "hits", "documents") if output.get(k)), None)
        question = ctx.inputs.get("question") if isinstance(ctx.inputs, dict) else None
        if not passages or not question:
            return {}
        terms = set(_WORD.findall(question.lower())) - _STOP
        relevant = sum(1 for p in passages if terms & set(_WORD.findall(_text(p).lower())))
        return {"retrieval_relevance": relevant / len(passages)}


def _norm(n: str) -> str:
    n = n.replace(",", ".")
    return str(float(n)).removesuffix(".0")


def _text(x: Any) -> str:
    return x if isinstance(x, str) else json.dumps(x, ensure_ascii=False, default=str)


ScoreValue = tuple[str, float | None, str | None, str | None]
"""(name, score, label, explanation) of one result."""


def _flatten(name: str, result: Any) -> list[ScoreValue]:
    if isinstance(result, EvaluationReason):
        (_, score, label, _x) = _flatten(name, result.value)[0]
        return [(name, score, label, result.reason)]
    if isinstance(result, bool):
        return [(name, 1.0 if result else 0.0, "pass" if result else "fail", None)]
    if isinstance(result, int | float):
        return [(name, float(result), None, None)]
    if isinstance(result, str):
        return [(name, None, result, None)]
    if isinstance(result, dict):
        return [item for key, value in result.items() for item in _flatten(str(key), value)]
    return []


async def evaluate_all(
    evaluators: list[Evaluator[Any, Any, Any]], ctx: EvaluatorContext[Any, Any, Any]
) -> list[ScoreValue]:
    """Run each evaluator (sync or async) on `ctx`; an evaluator that raises gives an 'error' label."""
    scores: list[ScoreValue] = []
    for ev in evaluators:
        name = _evaluator_name(ev)
        try:
            result = ev.evaluate(ctx)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:  # noqa: BLE001 - one evaluator failing does not lose the others' scores
            scores.append((name, None, "error", f"{type(exc).__name__}: {exc}"[:300]))
            continue
        scores.extend(_flatten(name, result))
    return scores


def _evaluator_name(ev: Evaluator[Any, Any, Any]) -> str:
    explicit = getattr(ev, "evaluation_name", None) or getattr(ev, "name", None)
    if isinstance(explicit, str) and explicit:
        return explicit
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(ev).__name__).lower()


_BUILTIN: dict[str, type[Evaluator[Any, Any, Any]]] = {
    "schema_valid": SchemaValid,
    "grounded_numbers": GroundedNumbers,
    "retrieval_relevance": RetrievalRelevance,
}
SUITES: dict[str, list[str]] = {"default": ["schema_valid", "grounded_numbers", "retrieval_relevance"]}
"""Shipped suites: name -> evaluator names."""


def _build(spec: Any, where: str, near: Path | None = None) -> Evaluator[Any, Any, Any]:
    if isinstance(spec, str):
        spec = {"evaluator": spec}
    if not isinstance(spec, dict) or "evaluator" not in spec:
        raise OnlineSuiteError(f"{where}: each evaluator is a name or {{evaluator: module:Class, args: {{...}}}}")
    target, args = spec["evaluator"], spec.get("args") or {}
    if target in _BUILTIN:
        return _BUILTIN[target](**args)
    try:
        cls = import_object(str(target), near=near)
        return cls(**args)  # type: ignore[no-any-return]
    except (ImportError, AttributeError, TypeError, ValueError) as exc:
        known = ", ".join(_BUILTIN)
        raise OnlineSuiteError(f"{where}: cannot build evaluator {target!r} ({exc}); built-in: {known}") from None


def load_suite(name_or_path: str) -> list[Evaluator[Any, Any, Any]]:
    """A shipped suite by name, or a YAML file `{evaluators: [...]}`."""
    if name_or_path in SUITES:
        return [_build(s, f"suite {name_or_path!r}") for s in SUITES[name_or_path]]
    path = Path(name_or_path)
    if not path.exists():
        raise OnlineSuiteError(f"no online-eval suite {name_or_path!r}: shipped {sorted(SUITES)}, or a YAML file path")
    data = yaml.safe_load(path.read_text()) or {}
    specs = data.get("evaluators") if isinstance(data, dict) else None
    if not isinstance(specs, list) or not specs:
        raise OnlineSuiteError(f"{path}: expected `evaluators:` with a list of evaluators")
    return [_build(s, f"{path}: evaluators[{i}]", path) for i, s in enumerate(specs)]
