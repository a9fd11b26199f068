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
    "MULTI_TURN_CLASS_FILES",
    "BfclCase",
    "BfclDataError",
    "available_categories",
    "load_category",
    "parse_call_string",
]

CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance", "multi_turn_base")
"""The non-live categories this checker knows."""

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

    def function(self, name: str) -> dict[str, Any] | None:
        return next((f for f in self.functions if f["name"] == name), None)


def available_categories(data_dir: Path) -> list[str]:
    """Known categories whose question file exists in `data_dir`."""
    return [c for c in CATEGORIES if (data_dir / f"BFCL_v4_{c}.json").exists()]


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


def load_category(data_dir: Path, category: str) -> list[BfclCase]:
    """Load one category's questions and ground truth from `data_dir`."""
    qpath = data_dir / f"BFCL_v4_{category}.json"
    questions = _read_jsonl(qpath)
    answers: dict[str, Any] = {}
    if category != "irrelevance":  # irrelevance has no answers: no call is correct
        apath = data_dir / "possible_answer" / f"BFCL_v4_{category}.json"
        answers = {row["id"]: row["ground_truth"] for row in _read_jsonl(apath)}
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
        if category != "irrelevance":
            if cid not in answers:
                raise BfclDataError(f"{where}: no ground truth for id {cid!r} in possible_answer/")
            gt = answers[cid]
            if case.multi_turn:
                case.expected_turns = [[parse_call_string(s, funcs) for s in turn] for turn in gt]
            else:
                for item in gt:
                    ((fname, params),) = item.items()
                    case.expected.append(ExpectedCall(tool=fname, allowed={k: list(v) for k, v in params.items()}))
        cases.append(case)
    return cases
