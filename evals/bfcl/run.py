"""Score BFCL: the ground truth itself (`score_gold`), perturbations of it (`score_perturbations`), or a
model's tool calls (`score_model`, one request per question with the functions offered as tools; calls
are captured, never executed).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiagents.evals.bfcl.checker import check_case
from aiagents.evals.bfcl.data import BfclCase, available_categories, load_category
from aiagents.evals.bfcl.perturb import PERTURBATION_KINDS, gold_calls, perturbations
from aiagents.evals.bfcl.validity import ground_truth_problems
from pydantic_ai import messages as _m
from pydantic_ai.direct import model_request
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.tools import ToolDefinition

from aiagents.trajectory import ToolCall

__all__ = [
    "CaseOutcome",
    "CategoryScore",
    "bfcl_tool_definitions",
    "load_cases",
    "score_gold",
    "score_model",
    "score_perturbations",
]

_JSON_TYPES = {"dict": "object", "float": "number", "tuple": "array", "any": None}
_JSON_SCHEMA_TYPES = {"object", "number", "integer", "string", "boolean", "array", "null"}
_NAME_OK = re.compile(r"[^a-zA-Z0-9_-]")


@dataclass(kw_only=True)
class CaseOutcome:
    """One scored case (or one perturbation of it)."""

    id: str
    passed: bool
    reason: str
    kind: str = ""


@dataclass(kw_only=True)
class CategoryScore:
    """Counts for one category or perturbation kind, with the failures."""

    cases: int = 0
    passed: int = 0
    failures: list[CaseOutcome] = field(default_factory=list)
    invalid: list[CaseOutcome] = field(default_factory=list)
    """Entries whose ground truth contradicts the question (`ground_truth_problems`): not counted."""

    def add(self, outcome: CaseOutcome, *, want_pass: bool = True) -> None:
        self.cases += 1
        if outcome.passed == want_pass:
            self.passed += 1
        else:
            self.failures.append(outcome)


def load_cases(data_dir: Path, categories: Sequence[str] | None = None) -> dict[str, list[BfclCase]]:
    """Cases of the requested categories (default: every known category present in `data_dir`)."""
    cats = list(categories) if categories else available_categories(data_dir)
    return {c: load_category(data_dir, c) for c in cats}


def score_gold(cases: dict[str, list[BfclCase]]) -> dict[str, CategoryScore]:
    """Check each case's ground truth as if it were the model's answer: every one should pass."""
    out: dict[str, CategoryScore] = {}
    for cat, items in cases.items():
        score = out.setdefault(cat, CategoryScore())
        for case in items:
            problems = ground_truth_problems(case)
            if problems:
                score.invalid.append(CaseOutcome(id=case.id, passed=False, reason="; ".join(problems)))
                continue
            res = check_case(case, gold_calls(case))
            score.add(CaseOutcome(id=case.id, passed=res.passed, reason=res.reason))
    return out


def score_perturbations(cases: dict[str, list[BfclCase]]) -> dict[str, CategoryScore]:
    """Check every perturbation of the gold; `passed` counts the ones the checker rejected (detected)."""
    out = {k: CategoryScore() for k in PERTURBATION_KINDS}
    for items in cases.values():
        for case in items:
            if ground_truth_problems(case):
                continue
            for p in perturbations(case):
                res = check_case(case, p.calls, mode=p.mode)
                out[p.kind].add(
                    CaseOutcome(id=case.id, passed=res.passed, reason=res.reason, kind=p.kind),
                    want_pass=False,
                )
    return {k: v for k, v in out.items() if v.cases}


# --- running a model --------------------------------------------------------------------------------------


def _json_schema(node: Any) -> Any:
    """BFCL's schema dialect -> JSON schema (`dict`->object, `float`->number, `tuple`->array, `any`->{})."""
    if isinstance(node, list):
        return [_json_schema(x) for x in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for k, v in node.items():
        if k == "optional":
            continue
        if k == "type" and isinstance(v, str):
            mapped = _JSON_TYPES.get(v, v)
            if mapped is not None:
                # Java and JavaScript cases declare their own types (`String`, `HashMap`, `Boolean`); their
                # answers are source text, so the model is asked for a string, as BFCL does for them.
                out["type"] = mapped if mapped in _JSON_SCHEMA_TYPES else "string"
        elif k == "properties" and isinstance(v, dict):
            out[k] = {name: _json_schema(sub) for name, sub in v.items()}
        else:
            out[k] = _json_schema(v)
    return out


def bfcl_tool_definitions(functions: list[dict[str, Any]]) -> tuple[list[ToolDefinition], dict[str, str]]:
    """Tool definitions for a case (names made provider-safe: `math.hypot` -> `math_hypot`) and the
    map back to BFCL's names."""
    defs, back = [], {}
    for f in functions:
        safe = _NAME_OK.sub("_", f["name"])[:64]
        back[safe] = f["name"]
        params = _json_schema(f.get("parameters", {"type": "dict", "properties": {}}))
        params.setdefault("type", "object")
        defs.append(ToolDefinition(name=safe, description=f.get("description", ""), parameters_json_schema=params))
    return defs, back


def _request_messages(turn: list[dict[str, Any]]) -> list[_m.ModelMessage]:
    parts: list[Any] = []
    for msg in turn:
        if msg.get("role") == "system":
            parts.append(_m.SystemPromptPart(content=msg["content"]))
        else:
            parts.append(_m.UserPromptPart(content=msg["content"]))
    return [_m.ModelRequest(parts=parts)]


async def _ask(model: Model, case: BfclCase) -> list[ToolCall]:
    defs, back = bfcl_tool_definitions(case.functions)
    response = await model_request(
        model,
        _request_messages(case.question[0]),
        model_request_parameters=ModelRequestParameters(function_tools=defs, allow_text_output=True),
    )
    return [
        ToolCall(tool_name=back.get(p.tool_name, p.tool_name), args=p.args_as_dict(), call_id=p.tool_call_id)
        for p in response.parts
        if isinstance(p, _m.ToolCallPart)
    ]


async def score_model(
    model: Model, cases: dict[str, list[BfclCase]], *, concurrency: int = 4
) -> tuple[dict[str, CategoryScore], list[str]]:
    """Ask `model` each single-turn question once and check its calls.

    Returns the scores and the categories skipped: multi-turn needs BFCL's executable backends (tool
    results feed the next turn), which this checker does not have.
    """
    sem = asyncio.Semaphore(concurrency)
    skipped = [c for c, items in cases.items() if items and items[0].multi_turn]

    async def one(case: BfclCase) -> CaseOutcome:
        async with sem:
            try:
                calls = await _ask(model, case)
            except Exception as e:  # a provider error fails this case, not the run
                return CaseOutcome(id=case.id, passed=False, reason=f"model error: {type(e).__name__}: {e}")
        res = check_case(case, calls)
        return CaseOutcome(id=case.id, passed=res.passed, reason=res.reason)

    out: dict[str, CategoryScore] = {}
    for cat, items in cases.items():
        if cat in skipped:
            continue
        score = out.setdefault(cat, CategoryScore())
        for outcome in await asyncio.gather(*(one(c) for c in items)):
            score.add(outcome)
    return out, skipped
