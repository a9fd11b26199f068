"""Output evaluators: exact, contains, regex, numeric tolerance, field-by-field match.

Each compares `ctx.output` with its own `expected` when set, else with the case's `expected_output`,
and returns `EvaluationReason(value, reason)` (or, for `FieldsMatch`, one result per field plus the
overall score).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic_evals.evaluators import EvaluationReason, Evaluator, EvaluatorContext

__all__ = [
    "ContainsText",
    "ExactMatch",
    "FieldComparator",
    "FieldsMatch",
    "NumericTolerance",
    "RegexMatch",
]

_NUMBER = re.compile(r"[-+]?(?:\d+(?:[.,]\d+)*(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?")
_MISSING = object()


def _expected(ctx: EvaluatorContext[Any, Any, Any], own: Any) -> Any:
    return own if own is not None else ctx.expected_output


def _text(x: Any) -> str:
    return x if isinstance(x, str) else json.dumps(x, default=str, sort_keys=True)


def _short(x: Any, n: int = 80) -> str:
    r = repr(x)
    return r if len(r) <= n else r[: n - 3] + "..."


@dataclass(repr=False)
class ExactMatch(Evaluator[Any, Any, Any]):
    """Output equals the expected value (strings optionally stripped / case-folded)."""

    expected: Any = None
    case_sensitive: bool = True
    strip: bool = True
    evaluation_name: str | None = None

    def get_default_evaluation_name(self) -> str:
        return self.evaluation_name or "exact"

    def evaluate(self, ctx: EvaluatorContext[Any, Any, Any]) -> EvaluationReason:
        want, got = _expected(ctx, self.expected), ctx.output
        if isinstance(want, str) and isinstance(got, str):
            a, b = (got.strip(), want.strip()) if self.strip else (got, want)
            if not self.case_sensitive:
                a, b = a.casefold(), b.casefold()
            ok = a == b
        else:
            ok = got == want
        return EvaluationReason(ok, "output equals expected" if ok else f"expected {_short(want)}, got {_short(got)}")


@dataclass(repr=False)
class ContainsText(Evaluator[Any, Any, Any]):
    """Output text contains every one of the expected strings (`expected`: a string or a list)."""

    expected: str | list[str] | None = None
    case_sensitive: bool = False
    evaluation_name: str | None = None

    def get_default_evaluation_name(self) -> str:
        return self.evaluation_name or "contains"

    def evaluate(self, ctx: EvaluatorContext[Any, Any, Any]) -> EvaluationReason:
        want = _expected(ctx, self.expected)
        needles = [want] if isinstance(want, str) else list(want or [])
        hay = _text(ctx.output)
        if not self.case_sensitive:
            hay = hay.casefold()
        missing = [n for n in needles if (n if self.case_sensitive else n.casefold()) not in hay]
        if not needles:
            return EvaluationReason(False, "nothing to look for: give `expected` or the case's expected_output")
        if missing:
            return EvaluationReason(False, f"missing {len(missing)} of {len(needles)}: {missing!r}")
        return EvaluationReason(True, f"contains all {len(needles)} expected string(s)")


@dataclass(repr=False)
class RegexMatch(Evaluator[Any, Any, Any]):
    """Output text matches `pattern` (`re.search`, or the whole text with `full=True`)."""

    pattern: str
    full: bool = False
    ignore_case: bool = False
    evaluation_name: str | None = None

    def get_default_evaluation_name(self) -> str:
        return self.evaluation_name or "regex"

    def evaluate(self, ctx: EvaluatorContext[Any, Any, Any]) -> EvaluationReason:
        flags = re.IGNORECASE if self.ignore_case else 0
        text = _text(ctx.output)
        m = (re.fullmatch if self.full else re.search)(self.pattern, text, flags)
        if m:
            return EvaluationReason(True, f"matched {m.group(0)!r}")
        return EvaluationReason(False, f"/{self.pattern}/ does not match {_short(text)}")


def _number(x: Any) -> float | None:
    if isinstance(x, bool):
        return None
    if isinstance(x, int | float):
        return float(x)
    if isinstance(x, str):
        m = _NUMBER.search(x)
        if m:
            try:
                return float(m.group(0).replace(",", ""))
            except ValueError:
                return None
    return None


def _within(got: float, want: float, abs_tol: float, rel_tol: float) -> bool:
    return math.isclose(got, want, abs_tol=abs_tol, rel_tol=rel_tol)


@dataclass(repr=False)
class NumericTolerance(Evaluator[Any, Any, Any]):
    """The output's number (the first number in a text output) is within tolerance of the expected one:
    |got - want| <= max(abs_tol, rel_tol * max(|got|, |want|)) (`math.isclose`)."""

    expected: float | None = None
    abs_tol: float = 0.0
    rel_tol: float = 0.0
    evaluation_name: str | None = None

    def get_default_evaluation_name(self) -> str:
        return self.evaluation_name or "numeric"

    def evaluate(self, ctx: EvaluatorContext[Any, Any, Any]) -> EvaluationReason:
        want, got = _number(_expected(ctx, self.expected)), _number(ctx.output)
        if want is None:
            return EvaluationReason(False, "no expected number")
        if got is None:
            return EvaluationReason(False, f"no number in output {_short(ctx.output)}")
        ok = _within(got, want, self.abs_tol, self.rel_tol)
        return EvaluationReason(
            ok, f"{got:g} vs {want:g}: error {abs(got - want):g} {'within' if ok else 'beyond'} tolerance"
        )


FieldComparator = str | Callable[[Any, Any], bool]
"""`"exact"`, `"case_insensitive"`, `"contains"` (expected text inside the actual),
`"numeric"` / `"numeric:<abs_tol>"` / `"numeric:<pct>%"` (relative to the expected value), or a function
`(actual, expected) -> bool`."""


def _as_mapping(x: Any) -> Any:
    if isinstance(x, BaseModel):
        return x.model_dump(mode="json")
    if isinstance(x, str):
        try:
            parsed = json.loads(x)
        except json.JSONDecodeError:
            return x
        return parsed
    if hasattr(x, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(x)
    return x


def _get(obj: Any, path: str) -> Any:
    cur = obj
    for part in path.split("."):
        if isinstance(cur, Mapping) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return _MISSING
    return cur


def _compare(kind: FieldComparator, got: Any, want: Any) -> bool:
    if callable(kind):
        return bool(kind(got, want))
    if kind == "exact":
        return got == want
    if kind == "case_insensitive":
        return str(got).casefold().strip() == str(want).casefold().strip()
    if kind == "contains":
        return str(want).casefold() in str(got).casefold()
    if kind.startswith("numeric"):
        spec = kind.partition(":")[2].strip()
        g, w = _number(got), _number(want)
        if g is None or w is None:
            return False
        if spec.endswith("%"):  # relative to the expected value: a price within 20% of the reference
            return abs(g - w) <= abs(w) * float(spec[:-1]) / 100 + 1e-9
        return _within(g, w, float(spec or 0.0), 0.0)
    raise ValueError(
        f"unknown field comparator {kind!r}; use exact, case_insensitive, contains, numeric[:tol] or numeric:<pct>%"
    )


@dataclass(repr=False)
class FieldsMatch(Evaluator[Any, Any, Any]):
    """Field-by-field match of a structured output (pydantic model, dataclass, dict or JSON text).

    `fields` maps a field path (`a.b.0`) to its comparator; unlisted fields of the expected object use
    `default`. Returns one boolean result per field (`<name>.<field>`) and `<name>` = the share of fields
    that match (with `<name>_pass` True when all do).
    """

    expected: Any = None
    fields: dict[str, FieldComparator] = field(default_factory=dict)
    default: FieldComparator = "exact"
    only_listed: bool = False
    """Compare only the fields in `fields` (else every top-level field of the expected object too)."""
    evaluation_name: str | None = None

    def get_default_evaluation_name(self) -> str:
        return self.evaluation_name or "fields"

    def evaluate(self, ctx: EvaluatorContext[Any, Any, Any]) -> dict[str, EvaluationReason]:
        name = self.get_default_evaluation_name()
        want, got = _as_mapping(_expected(ctx, self.expected)), _as_mapping(ctx.output)
        if not isinstance(want, Mapping):
            return {name: EvaluationReason(0.0, f"expected value is not an object: {_short(want)}")}
        if not isinstance(got, Mapping):
            return {name: EvaluationReason(0.0, f"output is not an object: {_short(got)}")}
        paths = list(self.fields) if self.only_listed else list(dict.fromkeys([*want.keys(), *self.fields]))
        results: dict[str, EvaluationReason] = {}
        bad: list[str] = []
        for path in paths:
            w, g = _get(want, path), _get(got, path)
            kind = self.fields.get(path, self.default)
            if w is _MISSING:
                results[f"{name}.{path}"] = EvaluationReason(False, f"{path}: not in the expected object")
                bad.append(path)
                continue
            if g is _MISSING:
                results[f"{name}.{path}"] = EvaluationReason(False, f"{path}: missing from output")
                bad.append(path)
                continue
            ok = _compare(kind, g, w)
            label = kind if isinstance(kind, str) else getattr(kind, "__name__", "custom")
            verdict = "matches" if ok else "does not match"
            results[f"{name}.{path}"] = EvaluationReason(
                ok, f"{path}: got {_short(g, 40)}, expected {_short(w, 40)} ({label}: {verdict})"
            )
            if not ok:
                bad.append(path)
        score = (len(paths) - len(bad)) / len(paths) if paths else 1.0
        summary = f"{len(paths) - len(bad)}/{len(paths)} fields match" + (f"; wrong: {bad}" if bad else "")
        results[name] = EvaluationReason(score, summary)
        results[f"{name}_pass"] = EvaluationReason(not bad, summary)
        return results
