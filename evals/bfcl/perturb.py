"""Gold answers and systematic perturbations of them, to check the checker.

`gold_calls(case)` builds a concrete answer from the ground truth (the first allowed value of each
argument, leaving out arguments whose allowed values include `""`); it must pass. Each perturbation is
a deliberate mistake that must fail:

- `wrong_function`: the first call names another function (one offered to the model if possible);
- `missing_required`: a required argument is dropped from a call;
- `wrong_value`: a required argument gets a value outside its allowed set;
- `extra_call`: one call too many (a repeated call; for irrelevance, any call at all);
- `missing_call`: one call left out (only where there are at least 2 calls);
- `swapped_order`: two distinguishable calls swapped, checked under `strict` (multi-turn turns, and
  parallel cases with the order enforced as in BFCL's `parallel_function_checker_enforce_order`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aiagents.evals.bfcl.checker import bfcl_call_diffs
from aiagents.evals.bfcl.data import BfclCase
from aiagents.evals.matching import OMIT, ExpectedCall, MatchMode

from aiagents.trajectory import ToolCall

__all__ = ["PERTURBATION_KINDS", "Perturbation", "gold_calls", "perturbations"]

PERTURBATION_KINDS = (
    "wrong_function",
    "missing_required",
    "wrong_value",
    "extra_call",
    "missing_call",
    "swapped_order",
)

Answer = list[ToolCall] | list[list[ToolCall]]


@dataclass(kw_only=True)
class Perturbation:
    """A mistaken answer to a case."""

    kind: str
    calls: Answer
    """Calls (one list per turn for multi-turn cases)."""
    mode: MatchMode | None = None
    """Trajectory mode to check it under (None: the category's own)."""
    note: str = ""


def gold_calls(case: BfclCase) -> Answer:
    """A concrete correct answer built from the ground truth.

    Each argument takes its first allowed value; an argument whose allowed values include `""` is left
    out unless the schema requires it (BFCL's ground truth marks some required arguments optional; its
    checker still rejects a call without them). Dict-typed values in BFCL's ground truth are themselves
    maps of allowed-value sets and are resolved the same way, key by key.
    """
    if case.multi_turn:
        return [[copy.deepcopy(c) for c in turn] for turn in case.expected_turns]
    if case.expects_some_call:  # relevance has no answer file and is scored on making a call at all
        return [ToolCall(tool_name=case.functions[0]["name"] if case.functions else "any_function", args={})]
    return [_concrete(e, case.function(e.tool) or {}) for e in case.expected]


_NO_VALUE = object()
"""No concrete option: the possible answers allow only leaving the parameter out (the omit marker "")."""


def _first(options: list[Any]) -> Any:
    """The first concrete option, or `_NO_VALUE` when the omit marker is the only one (the official data holds
    such entries, required parameters included: the gold call then leaves the parameter out)."""
    return next((o for o in options if not (isinstance(o, str) and o == OMIT)), _NO_VALUE)


def _resolve_dict(d: dict[str, list[Any]]) -> dict[str, Any]:
    resolved = {k: _first(vs) for k, vs in d.items() if OMIT not in vs}
    return {k: v for k, v in resolved.items() if v is not _NO_VALUE}


def _concrete(expected: ExpectedCall, schema: dict[str, Any]) -> ToolCall:
    params = schema.get("parameters", {})
    props: dict[str, Any] = params.get("properties", {})
    required = set(params.get("required", []))
    args = dict(expected.args)
    for k, options in expected.allowed.items():
        if OMIT in options and k not in required:
            continue
        value = _first(options)
        if value is _NO_VALUE:
            continue
        declared = props.get(k, {}).get("type")
        items = props.get(k, {}).get("items", {}).get("type")
        if declared == "dict" and isinstance(value, dict):
            value = _resolve_dict(value)
        elif declared in ("array", "tuple") and items == "dict" and isinstance(value, list):
            value = [_resolve_dict(d) if isinstance(d, dict) else d for d in value]
        args[k] = value
    return ToolCall(tool_name=expected.tool, args=args)


def _required(case: BfclCase, call: ToolCall) -> list[str]:
    doc = case.function(call.tool_name) or {}
    req = doc.get("parameters", {}).get("required", [])
    return [p for p in req if p in call.args]


def _wrong(value: Any, avoid: list[Any]) -> Any:
    """A value of the same type that is not among `avoid`."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        nums = [a for a in avoid if isinstance(a, int | float) and not isinstance(a, bool)]
        bump = max([abs(n) for n in nums] + [abs(value)]) + 1000
        return type(value)(value + bump) if isinstance(value, int) else float(value + bump + 0.5)
    if isinstance(value, str):
        return value + " zzz-wrong"
    if isinstance(value, list):
        return [*value, _wrong(value[-1], []) if value else "zzz-wrong"]
    if isinstance(value, dict):
        return {**value, "zzz_wrong_key": 1}
    return "zzz-wrong"


def _flat(answer: Answer, multi: bool) -> list[tuple[int, int, ToolCall]]:
    if multi:
        return [(t, i, c) for t, turn in enumerate(answer) for i, c in enumerate(turn)]  # type: ignore[arg-type]
    return [(0, i, c) for i, c in enumerate(answer)]  # type: ignore[arg-type]


def _replace(answer: Answer, multi: bool, t: int, i: int, new: ToolCall | None) -> Answer:
    out = copy.deepcopy(answer)
    seq: list[ToolCall] = out[t] if multi else out  # type: ignore[assignment,index]
    if new is None:
        del seq[i]
    else:
        seq[i] = new
    return out


def _allowed_for(case: BfclCase, t: int, i: int, param: str) -> list[Any]:
    if case.multi_turn:
        return [case.expected_turns[t][i].args.get(param)]
    e = case.expected[i]
    return e.allowed.get(param, [e.args.get(param)])


def perturbations(case: BfclCase) -> Iterator[Perturbation]:
    """The applicable perturbations of one case's gold answer (at most one of each kind)."""
    multi = case.multi_turn
    gold = gold_calls(case)
    calls = _flat(gold, multi)
    if case.expects_some_call:  # any call passes: the one perturbation that must fail is calling nothing
        yield Perturbation(kind="missing_call", calls=[])
        return
    if case.expects_no_call:
        f = case.functions[0] if case.functions else {"name": "unlisted_function"}
        req = f.get("parameters", {}).get("required", [])
        yield Perturbation(kind="extra_call", calls=[ToolCall(tool_name=f["name"], args=dict.fromkeys(req, "x"))])
        return
    if not calls:
        return
    # wrong_function: rename the first call
    t, i, c = calls[0]
    expected_names = {x.tool_name for _, _, x in calls}
    others = [f["name"] for f in case.functions if f["name"] not in expected_names]
    new_name = others[0] if others else c.tool_name + "_wrong"
    yield Perturbation(
        kind="wrong_function", calls=_replace(gold, multi, t, i, ToolCall(tool_name=new_name, args=c.args))
    )
    # missing_required / wrong_value: the first call that has a required argument
    for t, i, c in calls:
        req = _required(case, c)
        if req:
            p = req[0]
            yield Perturbation(
                kind="missing_required",
                calls=_replace(
                    gold,
                    multi,
                    t,
                    i,
                    ToolCall(tool_name=c.tool_name, args={k: v for k, v in c.args.items() if k != p}),
                ),
                note=p,
            )
            avoid = [a for a in _allowed_for(case, t, i, p) if a != OMIT]
            args = {**c.args, p: _wrong(c.args[p], avoid)}
            yield Perturbation(
                kind="wrong_value",
                calls=_replace(gold, multi, t, i, ToolCall(tool_name=c.tool_name, args=args)),
                note=p,
            )
            break
    # extra_call: repeat the first call
    t, i, c = calls[0]
    extra = copy.deepcopy(gold)
    seq = extra[t] if multi else extra
    seq.insert(i + 1, copy.deepcopy(c))  # type: ignore[union-attr,arg-type]
    yield Perturbation(kind="extra_call", calls=extra)
    # missing_call: drop the last call, where there are at least 2
    if len(calls) >= 2:
        t, i, _ = calls[-1]
        yield Perturbation(kind="missing_call", calls=_replace(gold, multi, t, i, None))
    # swapped_order under strict: two adjacent calls in one turn that differ
    for t, i, c in calls:
        seq_ = gold[t] if multi else gold
        if i + 1 < len(seq_) and seq_[i + 1] != c:  # type: ignore[arg-type]
            swapped = copy.deepcopy(gold)
            s = swapped[t] if multi else swapped
            s[i], s[i + 1] = s[i + 1], s[i]  # type: ignore[index]
            if not multi and _interchangeable(case, i, i + 1):
                continue
            yield Perturbation(kind="swapped_order", calls=swapped, mode="strict", note=f"turn {t + 1}")
            break


def _interchangeable(case: BfclCase, i: int, j: int) -> bool:
    """True when the gold call of i also satisfies expected j (then a swap is not a mistake)."""
    a, b = case.expected[i], case.expected[j]
    ca, cb = _concrete(a, case.function(a.tool) or {}), _concrete(b, case.function(b.tool) or {})
    return not bfcl_call_diffs(ca, b, case.function(b.tool)) and not bfcl_call_diffs(cb, a, case.function(a.tool))
