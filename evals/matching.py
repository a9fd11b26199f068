"""Tool-call matching: expected calls with argument constraints, argument modes and trajectory modes.

Definitions (A = the actual calls of a run, E = the expected/reference calls; a call `a` *matches* an
expected call `e` when `a.tool_name == e.tool` and its arguments pass the argument mode below, or the
per-tool comparator for that tool when one is given):

Trajectory match modes (multiset semantics: each call is used at most once, found by a maximum
bipartite matching, so the result does not depend on the order calls are tried in):

- `strict`:    len(A) == len(E) and A[i] matches E[i] for every i (same calls, same order).
- `unordered`: there is a one-to-one pairing of all of A with all of E (same multiset, any order).
- `subset`:    every call in A is paired with a distinct call in E (no call outside the reference;
               reference calls may be missing).
- `superset`:  every call in E is paired with a distinct call in A (every reference call present;
               extra calls allowed).

Argument match modes, for actual arguments `args` against an `ExpectedCall` `e` whose constraints are
`e.args` (exact values) and `e.allowed` (BFCL-style allowed-value sets; `""` in a set means the argument
may be omitted). Let K = keys of `e.args` and `e.allowed`; R (required) = keys of `e.args` plus keys of
`e.allowed` whose set lacks `""`. A value *fits* when it equals `e.args[k]`, or equals one of the non-`""`
values of `e.allowed[k]` (equality is `value_equal`, by default `==`):

- `exact`:    R ⊆ keys(args) ⊆ K and every given value fits.
- `subset`:   keys(args) ⊆ K and every given value fits (expected arguments may be missing).
- `superset`: R ⊆ keys(args) and every value whose key is in K fits (extra arguments allowed).
- `ignore`:   only the tool name is compared.

Note the direction: `subset`/`superset` say how the *actual* relates to the reference, for calls and for
arguments alike. (pydantic-evals' `ArgumentCorrectness(match_mode="subset")` means "expected ⊆ actual",
which is our `superset`.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiagents.trajectory import ToolCall

__all__ = [
    "ArgMode",
    "MatchMode",
    "ExpectedCall",
    "CallComparator",
    "ValueEqual",
    "CallMatch",
    "TrajectoryMatchResult",
    "OMIT",
    "compare_args",
    "compare_call",
    "match_calls",
    "max_matching",
]

ArgMode = Literal["exact", "ignore", "subset", "superset"]
MatchMode = Literal["strict", "unordered", "subset", "superset"]
ValueEqual = Callable[[Any, Any], bool]
"""`(actual_value, expected_value) -> bool`."""
CallComparator = Callable[[ToolCall, "ExpectedCall"], "bool | list[str]"]
"""Per-tool custom comparator: True/[] means match; False or a list of mismatch descriptions means not."""

OMIT = ""
"""In an allowed-value set, the marker that the argument may be left out (BFCL's convention)."""


@dataclass(kw_only=True)
class ExpectedCall:
    """A reference tool call with argument constraints."""

    tool: str
    """Tool name the call must have."""
    args: dict[str, Any] = field(default_factory=dict)
    """Arguments with one exact expected value each."""
    allowed: dict[str, list[Any]] = field(default_factory=dict)
    """Arguments with a set of allowed values; `""` in the set means the argument may be omitted."""

    def required_keys(self) -> set[str]:
        return set(self.args) | {k for k, vs in self.allowed.items() if OMIT not in vs}

    def known_keys(self) -> set[str]:
        return set(self.args) | set(self.allowed)

    def concrete(self) -> ToolCall:
        """A call satisfying this expectation: exact values, first allowed values, omittable args left out."""
        args = dict(self.args)
        for k, vs in self.allowed.items():
            if OMIT in vs:
                continue
            args[k] = vs[0]
        return ToolCall(tool_name=self.tool, args=args)


def _default_equal(actual: Any, expected: Any) -> bool:
    # bool is an int in Python: keep True != 1 for argument checks
    if isinstance(actual, bool) != isinstance(expected, bool):
        return False
    return actual == expected


def compare_args(
    args: Mapping[str, Any],
    expected: ExpectedCall,
    mode: ArgMode = "exact",
    *,
    value_equal: ValueEqual = _default_equal,
) -> list[str]:
    """Mismatches of `args` against `expected` under `mode` (see the module docstring); [] means match."""
    if mode == "ignore":
        return []
    diffs: list[str] = []
    known = expected.known_keys()
    if mode in ("exact", "superset"):
        for k in sorted(expected.required_keys()):
            if k not in args:
                diffs.append(f"missing argument {k!r}")
    for k, v in args.items():
        if k not in known:
            if mode in ("exact", "subset"):
                diffs.append(f"unexpected argument {k!r}={v!r}")
            continue
        if k in expected.args:
            if not value_equal(v, expected.args[k]):
                diffs.append(f"argument {k!r}: expected {expected.args[k]!r}, got {v!r}")
        else:
            options = [o for o in expected.allowed[k] if not (isinstance(o, str) and o == OMIT)]
            if not any(value_equal(v, o) for o in options):
                diffs.append(f"argument {k!r}: {v!r} not among allowed {expected.allowed[k]!r}")
    return diffs


def compare_call(
    call: ToolCall,
    expected: ExpectedCall,
    arg_mode: ArgMode = "exact",
    *,
    comparators: Mapping[str, CallComparator] | None = None,
    value_equal: ValueEqual = _default_equal,
) -> list[str]:
    """Mismatches of one call against one expected call; [] means match."""
    if call.tool_name != expected.tool:
        return [f"tool {call.tool_name!r} instead of {expected.tool!r}"]
    custom = (comparators or {}).get(expected.tool)
    if custom is not None:
        res = custom(call, expected)
        if res is True:
            return []
        if res is False:
            return [f"custom comparator for {expected.tool!r} rejected args {call.args!r}"]
        return list(res)
    return compare_args(call.args, expected, arg_mode, value_equal=value_equal)


@dataclass(kw_only=True)
class CallMatch:
    """A pairing of an actual call with an expected call."""

    actual_index: int
    expected_index: int


@dataclass(kw_only=True)
class TrajectoryMatchResult:
    """Outcome of `match_calls`."""

    mode: MatchMode
    """The trajectory mode used."""
    passed: bool
    """Whether the calls satisfy the mode's definition."""
    score: float
    """strict: matching positions / max(len); unordered: pairs / max(len); subset: pairs / len(actual);
    superset: pairs / len(expected); 1.0 when the denominator is 0."""
    pairs: list[CallMatch] = field(default_factory=list)
    """Matched (actual, expected) index pairs."""
    unmatched_actual: list[int] = field(default_factory=list)
    """Indices of actual calls without a partner."""
    unmatched_expected: list[int] = field(default_factory=list)
    """Indices of expected calls without a partner."""
    reason: str = ""
    """Human-readable explanation naming the first problem."""


def max_matching(n_left: int, n_right: int, edge: Callable[[int, int], bool]) -> dict[int, int]:
    """Maximum bipartite matching (augmenting paths; sizes here are a handful of calls): left -> right."""
    adj = [[j for j in range(n_right) if edge(i, j)] for i in range(n_left)]
    match_right: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j in adj[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in match_right or augment(match_right[j], seen):
                match_right[j] = i
                return True
        return False

    for i in range(n_left):
        augment(i, set())
    return {i: j for j, i in match_right.items()}


def match_calls(
    actual: Sequence[ToolCall],
    expected: Sequence[ExpectedCall],
    mode: MatchMode = "strict",
    *,
    arg_mode: ArgMode = "exact",
    comparators: Mapping[str, CallComparator] | None = None,
    value_equal: ValueEqual = _default_equal,
    check: Callable[[ToolCall, ExpectedCall], list[str]] | None = None,
) -> TrajectoryMatchResult:
    """Compare actual calls to expected calls under a trajectory mode (see the module docstring).

    `check` replaces the per-pair comparison entirely (the BFCL checker passes its schema-aware one).
    """

    def diffs(a: ToolCall, e: ExpectedCall) -> list[str]:
        if check is not None:
            return check(a, e)
        return compare_call(a, e, arg_mode, comparators=comparators, value_equal=value_equal)

    na, ne = len(actual), len(expected)
    if mode == "strict":
        pairs: list[CallMatch] = []
        first = ""
        for i in range(max(na, ne)):
            if i >= na:
                first = first or f"expected call #{i + 1} {expected[i].tool!r} is missing"
                continue
            if i >= ne:
                first = first or f"call #{i + 1} {actual[i].tool_name!r} is extra"
                continue
            d = diffs(actual[i], expected[i])
            if d:
                first = first or f"call #{i + 1}: " + "; ".join(d)
            else:
                pairs.append(CallMatch(actual_index=i, expected_index=i))
        denom = max(na, ne)
        paired_a = {p.actual_index for p in pairs}
        paired_e = {p.expected_index for p in pairs}
        ok = not first
        return TrajectoryMatchResult(
            mode=mode,
            passed=ok,
            score=len(pairs) / denom if denom else 1.0,
            pairs=pairs,
            unmatched_actual=[i for i in range(na) if i not in paired_a],
            unmatched_expected=[i for i in range(ne) if i not in paired_e],
            reason=f"all {na} calls match in order" if ok else first,
        )

    cache: dict[tuple[int, int], list[str]] = {}

    def edge(i: int, j: int) -> bool:
        cache[(i, j)] = diffs(actual[i], expected[j])
        return not cache[(i, j)]

    m = max_matching(na, ne, edge)
    pairs = [CallMatch(actual_index=i, expected_index=j) for i, j in sorted(m.items())]
    un_a = [i for i in range(na) if i not in m]
    un_e = [j for j in range(ne) if j not in set(m.values())]
    if mode == "unordered":
        ok, denom = not un_a and not un_e, max(na, ne)
    elif mode == "subset":
        ok, denom = not un_a, na
    elif mode == "superset":
        ok, denom = not un_e, ne
    else:  # pragma: no cover - guarded by the Literal
        raise ValueError(f"unknown match mode {mode!r}; use strict, unordered, subset or superset")
    if ok:
        reason = f"{mode}: {len(pairs)} of {na} actual / {ne} expected calls paired"
    elif un_e and mode in ("unordered", "superset"):
        j = un_e[0]
        near = [cache.get((i, j)) for i in un_a if cache.get((i, j))]
        hint = f" (closest: {'; '.join(near[0])})" if near else ""
        reason = f"{mode}: expected call #{j + 1} {expected[j].tool!r} not found{hint}"
    else:
        i = un_a[0]
        reason = f"{mode}: call #{i + 1} {actual[i].tool_name!r} {actual[i].args!r} is not in the reference"
    return TrajectoryMatchResult(
        mode=mode,
        passed=ok,
        score=len(pairs) / denom if denom else 1.0,
        pairs=pairs,
        unmatched_actual=un_a,
        unmatched_expected=un_e,
        reason=reason,
    )
