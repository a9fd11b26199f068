"""Entries whose ground truth contradicts its own question: no answer can pass BFCL's checker on them.

The official data holds a few (5 of the 2,501 single-turn entries with answers in `bfcl-eval` 2026.3.23): a parameter
schema requires whose allowed values are empty or only the omit marker, a ground-truth parameter the schema
does not have, two functions of one name with different schemas. They are reported by id with the reason,
outside the counts, rather than scored as failures of the checker or of a model.
"""

from __future__ import annotations

from aiagents.evals.bfcl.data import BfclCase
from aiagents.evals.matching import OMIT

__all__ = ["ground_truth_problems"]


def ground_truth_problems(case: BfclCase) -> list[str]:
    """Why no call can match this single-turn case's ground truth ([] when the entry is consistent)."""
    if case.multi_turn or not case.expected:
        return []
    problems: list[str] = []
    names = [f["name"] for f in case.functions]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"two functions named {name!r} with their own schemas")
    for e in case.expected:
        schema = case.function(e.tool)
        if schema is None:
            problems.append(f"the ground truth calls {e.tool!r}, which the question does not offer")
            continue
        params = schema.get("parameters", {})
        props, required = params.get("properties", {}), params.get("required", [])
        for p, options in e.allowed.items():
            if p not in props and OMIT not in options:  # an answer must give it, and the schema refuses it
                problems.append(f"{e.tool}: ground-truth parameter {p!r} is not in the schema")
        for p in required:
            options = e.allowed.get(p)
            if options is None:
                problems.append(f"{e.tool}: required parameter {p!r} has no ground truth")
            elif not [o for o in options if o != OMIT]:
                problems.append(f"{e.tool}: required parameter {p!r} may only be left out")
    return problems
