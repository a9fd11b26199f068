"""`aiagents eval bfcl`: score tool calling on BFCL v4 (a model, the gold answers, or perturbations)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from aiagents.cli.output import console, fail, print_json

__all__ = ["register", "bfcl"]


def _table(title: str, scores: dict[str, Any], hit_label: str) -> Table:
    t = Table(title=title)
    t.add_column("name")
    t.add_column("cases", justify="right")
    t.add_column(hit_label, justify="right")
    t.add_column("first miss")
    for name, s in scores.items():
        miss = f"{s.failures[0].id}: {s.failures[0].reason}" if s.failures else ""
        if s.invalid:
            miss = f"{len(s.invalid)} entries with contradictory ground truth left out; {miss}".rstrip("; ")
        t.add_row(name, str(s.cases), str(s.passed), miss[:100])
    return t


def bfcl(
    data: Annotated[Path, typer.Option("--data", help="Folder with BFCL_v4_<category>.json and possible_answer/.")],
    model: Annotated[str | None, typer.Option("--model", help="Model to run (see `resolve_model`).")] = None,
    categories: Annotated[
        list[str] | None, typer.Option("--categories", help="Categories to score (repeat or comma-separate).")
    ] = None,
    gold: Annotated[bool, typer.Option("--gold", help="Score the ground truth itself (all must pass).")] = False,
    perturb: Annotated[
        bool, typer.Option("--perturb", help="Score systematic perturbations of the gold (all must fail).")
    ] = False,
    concurrency: Annotated[int, typer.Option(help="Model requests in flight.")] = 4,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
) -> None:
    """Run a model on BFCL questions and score its calls with the BFCL AST checker's semantics."""
    from aiagents.evals.bfcl import BfclDataError, load_cases, score_gold, score_model, score_perturbations
    from aiagents.evals.bfcl.data import skipped_categories

    if not (gold or perturb or model):
        raise typer.BadParameter("give --model M, or --gold and/or --perturb to check the checker")
    cats = [c.strip() for item in categories or [] for c in item.split(",") if c.strip()] or None
    try:
        cases = load_cases(data, cats)
    except BfclDataError as e:
        fail(str(e), 2)
    if not cases:
        fail(f"no BFCL_v4_<category>.json files found in {data}", 2)
    report: dict[str, Any] = {}
    not_scored = {c: why for c, why in skipped_categories(data).items() if not cats or c in cats}
    if gold:
        scores = score_gold(cases)
        report["gold"] = {
            c: {
                "cases": s.cases, "passed": s.passed,
                **({"failures": [vars(f) for f in s.failures[:20]]} if s.failures else {}),
                **({"invalid_ground_truth": [vars(f) for f in s.invalid]} if s.invalid else {}),
            }
            for c, s in scores.items()
        }  # fmt: skip
        console.print(_table("BFCL gold answers (must pass)", scores, "passed"))
    if perturb:
        scores = score_perturbations(cases)
        report["perturb"] = {k: {"cases": s.cases, "detected": s.passed} for k, s in scores.items()}
        console.print(_table("BFCL perturbations (must fail)", scores, "detected"))
    if model and not (gold or perturb):
        from aiagents.models import resolve_model

        resolved = resolve_model(model)
        scores, skipped = asyncio.run(score_model(resolved.model, cases, concurrency=concurrency))
        report["model"] = resolved.name
        report["results"] = {
            c: {
                "cases": s.cases,
                "passed": s.passed,
                "accuracy": round(s.passed / s.cases, 4) if s.cases else 0.0,
            }
            for c, s in scores.items()
        }
        not_scored.update({c: "multi-turn needs BFCL's executable backends for a model's run" for c in skipped})
        console.print(_table(f"BFCL: {resolved.name}", scores, "passed"))
    if not_scored:
        report["skipped"] = not_scored
        for c, why in not_scored.items():
            console.print(f"[yellow]skipped[/] {c}: {why}")
    if as_json:
        print_json(report)


def register(eval_app: typer.Typer) -> None:
    """Add `bfcl` to the `aiagents eval` group."""
    eval_app.command("bfcl")(bfcl)
