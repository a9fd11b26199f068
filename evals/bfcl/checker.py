"""The BFCL AST checker's semantics on top of `aiagents.evals.matching`.

Per call (BFCL's `simple_function_checker`): the function name must be the expected one; every
parameter the schema requires must be given; every given parameter must exist in the schema and in the
ground truth; its type must be the schema's (an int is accepted for a float; a value of the ground
truth's own type is accepted as a "variable"); its value must be one of the allowed values, strings
compared after BFCL's standardisation (lower-cased, spaces and `,./-_*^` removed, `'` -> `"`), lists
element-wise, dicts key by key; a ground-truth parameter left out must have `""` among its allowed values.

Per category: simple / multiple: exactly one call, matching the one expected call; parallel and
parallel_multiple: the calls as an unordered set (`unordered` mode; BFCL pairs greedily, we use a
maximum matching, which can only differ by accepting a set greedy pairing misses; the live_ categories
alike); irrelevance and live_irrelevance: no call at all; live_relevance: at least one call;
multi_turn_*: per turn, the calls in order (`strict`), arguments `exact` (an AST approximation of BFCL's
state-based multi-turn checker, which executes the calls on its backends).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiagents.evals.bfcl.data import BfclCase
from aiagents.evals.matching import OMIT, ExpectedCall, MatchMode, match_calls

from aiagents.trajectory import ToolCall

__all__ = ["CheckResult", "bfcl_call_diffs", "check_case", "category_mode", "standardize"]

_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "float": float,
    "boolean": bool,
    "array": list,
    "tuple": list,
    "dict": dict,
    "any": str,
}
_STRIP = re.compile(r"[ ,./\-_*^]")


@dataclass(kw_only=True)
class CheckResult:
    """Whether a model's calls are correct for a case, and why not."""

    passed: bool
    reason: str


def standardize(s: str) -> str:
    """BFCL's string normalisation: `April 1, 2024` == `april 1 2024`."""
    return _STRIP.sub("", s).lower().replace("'", '"')


def _norm(v: Any) -> Any:
    if isinstance(v, str):
        return standardize(v)
    if isinstance(v, list | tuple):
        return [_norm(x) for x in v]
    return v


def _first_type(options: list[Any]) -> type | None:
    return next((type(o) for o in options if not (isinstance(o, str) and o == OMIT)), None)


def _type_ok(value: Any, declared: str, options: list[Any], items: str | None) -> bool:
    want = _TYPES.get(declared)
    if want is None:
        return True  # a type this checker does not know: do not fail on it
    if type(value) is not want:
        return type(value) is _first_type(options)  # a "variable" of the ground truth's type
    if items is None or want is not list:
        return True
    item_t = _TYPES.get(items)
    if item_t is None:
        return True
    gold_item_types = {type(x) for o in options if isinstance(o, list) for x in o}
    return all(type(x) is item_t or type(x) in gold_item_types for x in value)


def _dict_ok(value: dict[str, Any], options: list[Any]) -> bool:
    for opt in options:
        if not isinstance(opt, dict):
            continue
        if any(k not in opt or _norm(v) not in [_norm(o) for o in opt[k]] for k, v in value.items()):
            continue
        if any(k not in value and OMIT not in vs for k, vs in opt.items()):
            continue
        return True
    return False


def _value_ok(value: Any, declared: str, options: list[Any], items: str | None) -> bool:
    if declared == "dict" and isinstance(value, dict):
        return _dict_ok(value, options)
    if declared in ("array", "tuple") and items == "dict" and isinstance(value, list):
        return any(
            isinstance(opt, list)
            and len(opt) == len(value)
            and all(isinstance(d, dict) and _dict_ok(d, [o]) for d, o in zip(value, opt, strict=True))
            for opt in options
        )
    if isinstance(value, str):
        return standardize(value) in [standardize(o) for o in options if isinstance(o, str) and o != OMIT]
    if isinstance(value, list):
        return _norm(value) in [_norm(o) for o in options if isinstance(o, list)]
    return value in [o for o in options if not (isinstance(o, str) and o == OMIT)]


def bfcl_call_diffs(call: ToolCall, expected: ExpectedCall, schema: dict[str, Any] | None) -> list[str]:
    """Why `call` fails `expected` under BFCL's per-call rules; [] when it passes."""
    if call.tool_name != expected.tool:
        return [f"function {call.tool_name!r} instead of {expected.tool!r}"]
    if schema is None:
        return [f"no schema for function {expected.tool!r}"]
    props: dict[str, Any] = schema.get("parameters", {}).get("properties", {})
    required: list[str] = schema.get("parameters", {}).get("required", [])
    for p in required:
        if p not in call.args:
            return [f"missing required parameter {p!r}"]
    options_by_param = {**{k: [v] for k, v in expected.args.items()}, **expected.allowed}
    for p, value in call.args.items():
        if p not in props or p not in options_by_param:
            return [f"unexpected parameter {p!r}"]
        declared = props[p].get("type", "any")
        items = props[p].get("items", {}).get("type") if declared in ("array", "tuple") else None
        options = options_by_param[p]
        if declared == "float" and type(value) is int:
            value = float(value)
        if not _type_ok(value, declared, options, items):
            return [f"parameter {p!r}: type {type(value).__name__} is not {declared}"]
        if not _value_ok(value, declared, options, items):
            return [f"parameter {p!r}: {value!r} not among allowed {options!r}"]
    for p, options in options_by_param.items():
        if p not in call.args and OMIT not in options:
            return [f"parameter {p!r} left out but it is not optional"]
    return []


def category_mode(category: str) -> MatchMode:
    """The trajectory mode BFCL uses for a category."""
    return "unordered" if "parallel" in category.split("_") else "strict"


def check_case(
    case: BfclCase,
    calls: Sequence[ToolCall] | Sequence[Sequence[ToolCall]],
    *,
    mode: MatchMode | None = None,
) -> CheckResult:
    """Score a model's calls for one case (a list of calls, or one list per turn for multi-turn).

    `mode` overrides the category's trajectory mode (e.g. `strict` on a parallel case).
    """
    if case.multi_turn:
        turns = [list(t) for t in calls]  # type: ignore[arg-type]
        if len(turns) != len(case.expected_turns):
            return CheckResult(passed=False, reason=f"{len(turns)} turns answered, {len(case.expected_turns)} expected")
        for n, (got, want) in enumerate(zip(turns, case.expected_turns, strict=True), 1):
            expected = [ExpectedCall(tool=c.tool_name, args=c.args) for c in want]
            res = match_calls(got, expected, mode or "strict", arg_mode="exact")
            if not res.passed:
                return CheckResult(passed=False, reason=f"turn {n}: {res.reason}")
        return CheckResult(passed=True, reason=f"all {len(turns)} turns match")
    flat: list[ToolCall] = list(calls)  # type: ignore[arg-type]
    if case.expects_no_call:
        if flat:
            return CheckResult(passed=False, reason=f"irrelevance: {len(flat)} call(s) made, none is correct")
        return CheckResult(passed=True, reason="irrelevance: no call made")
    if case.expects_some_call:
        if flat:
            return CheckResult(passed=True, reason=f"relevance: {len(flat)} call(s) made")
        return CheckResult(passed=False, reason="relevance: no call made, though a function fits")
    res = match_calls(
        flat,
        case.expected,
        mode or category_mode(case.category),
        check=lambda a, e: bfcl_call_diffs(a, e, case.function(e.tool)),
    )
    return CheckResult(passed=res.passed, reason=res.reason)
