"""BFCL v4 files: `BFCL_v4_<category>.json` (JSON lines) with `possible_answer/` aligned by id.

Single-turn ground truth is a list of `{"func": {"arg": [allowed values...]}}`, turned into
`ExpectedCall(allowed=...)`. Multi-turn ground truth is a list of expected call strings per turn
(`"cd(folder='document')"`), parsed with Python's `ast` (never evaluated); positional arguments are
named from the tool schemas in `multi_turn_func_doc/`.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiagents.evals.matching import ExpectedCall

from aiagents.errors import UserError
from aiagents.trajectory import ToolCall

__all__ = [
    "CATEGORIES",
    "MULTI_TURN_CATEGORIES",
    "NO_CALL_CATEGORIES",
    "NOT_COVERED",
    "SINGLE_TURN_CATEGORIES",
    "SOME_CALL_CATEGORIES",
    "skipped_categories",
    "MULTI_TURN_CLASS_FILES",
    "BfclCase",
    "BfclDataError",
    "available_categories",
    "load_category",
    "parse_call_string",
]

SINGLE_TURN_CATEGORIES = (
    "simple_python", "simple_java", "simple_javascript", "multiple", "parallel", "parallel_multiple",
    "live_simple", "live_multiple", "live_parallel", "live_parallel_multiple",
)  # fmt: skip
"""One request, calls checked against `possible_answer/` with BFCL's AST rules."""
NO_CALL_CATEGORIES = ("irrelevance", "live_irrelevance")
"""No function fits the question: any call fails (no answer file)."""
SOME_CALL_CATEGORIES = ("live_relevance",)
"""Some function fits: the case passes when the model makes at least one call (no answer file)."""
MULTI_TURN_CATEGORIES = ("multi_turn_base", "multi_turn_long_context", "multi_turn_miss_func", "multi_turn_miss_param")
"""Several user turns; each turn's calls checked in order against the expected call strings."""
CATEGORIES = SINGLE_TURN_CATEGORIES + NO_CALL_CATEGORIES + SOME_CALL_CATEGORIES + MULTI_TURN_CATEGORIES
"""Every category the AST checker covers."""
NOT_COVERED = {
    "memory": "needs BFCL's memory backends (state carried across prerequisite conversations)",
    "web_search": "needs live web search results executed between calls",
    "format_sensitivity": "tests prompt formats of a model run, not an answer an AST check can score",
}
"""Categories of the official data this checker does not score, with the reason."""

MULTI_TURN_CLASS_FILES = {
    "GorillaFileSystem": "gorilla_file_system.json",
    "MathAPI": "math_api.json",
    "MessageAPI": "message_api.json",
    "TwitterAPI": "posting_api.json",
    "TicketAPI": "ticket_api.json",
    "TradingBot": "trading_bot.json",
    "TravelAPI": "travel_booking.json",
    "VehicleControlAPI": "vehicle_control.json",
    "WebSearchAPI": "web_search.json",
}
"""Backend class named in `involved_classes` -> its schema file (BFCL's own mapping)."""


class BfclDataError(UserError):
    """A BFCL file is missing or malformed (names the file and line)."""


@dataclass(kw_only=True)
class BfclCase:
    """One BFCL question with its tools and ground truth."""

    id: str
    category: str
    question: list[list[dict[str, Any]]]
    """Turns, each a list of chat messages (`role`, `content`)."""
    functions: list[dict[str, Any]]
    """Tool schemas (BFCL's dialect of JSON schema: `dict`, `float`, `tuple`, `any`)."""
    expected: list[ExpectedCall] = field(default_factory=list)
    """Single-turn ground truth (empty for irrelevance)."""
    expected_turns: list[list[ToolCall]] = field(default_factory=list)
    """Multi-turn ground truth: the calls expected in each turn."""

    @property
    def multi_turn(self) -> bool:
        return self.category.startswith("multi_turn")

    @property
    def expects_no_call(self) -> bool:
        """No function fits (irrelevance): any call fails."""
        return self.category in NO_CALL_CATEGORIES

    @property
    def expects_some_call(self) -> bool:
        """Some function fits (relevance): at least one call passes, whatever its arguments."""
        return self.category in SOME_CALL_CATEGORIES

    def function(self, name: str) -> dict[str, Any] | None:
        return next((f for f in self.functions if f["name"] == name), None)


def _present(data_dir: Path) -> list[str]:
    return sorted(p.name[len("BFCL_v4_") : -len(".json")] for p in data_dir.glob("BFCL_v4_*.json"))


def available_categories(data_dir: Path) -> list[str]:
    """Covered categories whose question file exists in `data_dir` (in `CATEGORIES` order)."""
    present = set(_present(data_dir))
    return [c for c in CATEGORIES if c in present]


def skipped_categories(data_dir: Path) -> dict[str, str]:
    """Categories present in `data_dir` that the checker does not score -> why."""
    return {c: NOT_COVERED.get(c, "unknown category: not scored") for c in _present(data_dir) if c not in CATEGORIES}


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise BfclDataError(f"{path}: file not found (expected BFCL_v4_<category>.json and possible_answer/)")
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise BfclDataError(f"{path}:{n}: invalid JSON ({e.msg} at column {e.colno})") from e
    return rows


def _load_func_docs(data_dir: Path, classes: list[str], excluded: list[str]) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for cls in classes:
        fname = MULTI_TURN_CLASS_FILES.get(cls)
        if fname is None:
            raise BfclDataError(f"unknown multi-turn backend class {cls!r}; known: {sorted(MULTI_TURN_CLASS_FILES)}")
        docs.extend(_read_jsonl(data_dir / "multi_turn_func_doc" / fname))
    return [d for d in docs if d["name"] not in set(excluded)]


def parse_call_string(text: str, functions: list[dict[str, Any]]) -> ToolCall:
    """Parse `"name(a=1, 'b')"` into a `ToolCall`, naming positional arguments from the tool's schema."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as e:
        raise BfclDataError(f"cannot parse call {text!r}: {e.msg}") from e
    if not isinstance(node, ast.Call):
        raise BfclDataError(f"not a function call: {text!r}")
    name = ast.unparse(node.func)
    args: dict[str, Any] = {}
    if node.args:
        doc = next((f for f in functions if f["name"] == name), None)
        if doc is None:
            raise BfclDataError(f"call {text!r} has positional arguments but no schema names {name!r}")
        names = list(doc["parameters"]["properties"])
        if len(node.args) > len(names):
            raise BfclDataError(f"call {text!r}: more positional arguments than {name!r} has parameters")
        for pname, arg in zip(names, node.args, strict=False):
            args[pname] = ast.literal_eval(arg)
    for kw in node.keywords:
        if kw.arg is None:
            raise BfclDataError(f"call {text!r}: **kwargs is not supported")
        args[kw.arg] = ast.literal_eval(kw.value)
    return ToolCall(tool_name=name, args=args)


def _set_ground_truth(case: BfclCase, gt: Any, funcs: list[dict[str, Any]]) -> None:
    if case.multi_turn:
        case.expected_turns = [[parse_call_string(s, funcs) for s in turn] for turn in gt]
        return
    for item in gt:
        ((fname, params),) = item.items()
        case.expected.append(ExpectedCall(tool=fname, allowed={k: list(v) for k, v in params.items()}))


def load_category(data_dir: Path, category: str) -> list[BfclCase]:
    """Load one category's questions and ground truth from `data_dir`."""
    qpath = data_dir / f"BFCL_v4_{category}.json"
    questions = _read_jsonl(qpath)
    answers: dict[str, Any] = {}
    if category not in CATEGORIES:
        raise BfclDataError(f"{qpath}: category {category!r} is not scored ({NOT_COVERED.get(category, 'unknown')})")
    answered = category not in NO_CALL_CATEGORIES + SOME_CALL_CATEGORIES  # those have no answer file
    if answered:
        apath = data_dir / "possible_answer" / f"BFCL_v4_{category}.json"
        for n, row in enumerate(_read_jsonl(apath), 1):
            if not isinstance(row, dict) or "id" not in row or "ground_truth" not in row:
                raise BfclDataError(f"{apath}:{n}: expected an object with 'id' and 'ground_truth'")
            answers[row["id"]] = row["ground_truth"]
    cases = []
    for n, q in enumerate(questions, 1):
        where = f"{qpath}:{n}"
        try:
            cid = q["id"]
            if category.startswith("multi_turn"):
                funcs = _load_func_docs(data_dir, q["involved_classes"], q.get("excluded_function", []))
            else:
                funcs = q["function"]
            case = BfclCase(id=cid, category=category, question=q["question"], functions=funcs)
        except KeyError as e:
            raise BfclDataError(f"{where}: missing field {e.args[0]!r}") from e
        if answered:
            if cid not in answers:
                raise BfclDataError(f"{where}: no ground truth for id {cid!r} in possible_answer/")
            try:
                _set_ground_truth(case, answers[cid], funcs)
            except (BfclDataError, AttributeError, TypeError, ValueError) as e:
                raise BfclDataError(f"{where}: id {cid!r}: malformed ground truth in possible_answer/: {e}") from e
        cases.append(case)
    return cases
