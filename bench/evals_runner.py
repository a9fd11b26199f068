"""Benchmark: the eval runner over 1,000 cases against a model with 50 ms latency at concurrency 16.

Two targets: a bare async callable sleeping 50 ms, and a `Task` (listing-attributes) on a pydantic-ai
`FunctionModel` that sleeps 50 ms per request (the full path: render, model request, validation, two
spans per call, the runner's CHAIN span, FieldsMatch, one JSONL line per case). Cache off, tracing to an
in-memory exporter. Goal: under 15 s each. The floor is 1,000 x 50 ms / 16 = 3.1 s.

    python bench/evals_runner.py [--cases 1000] [--concurrency 16] [--latency-ms 50]

Prints a table and writes bench/results/evals_runner.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--latency-ms", type=float, default=50.0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-evals-"))
    os.environ["AIAGENTS_DATA_DIR"] = str(tmp / "data")

    from aiagents.evals import Case, Dataset, ExactMatch, FieldsMatch
    from aiagents.evals.runner import run_eval
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from pydantic_ai.messages import ModelResponse, ToolCallPart
    from pydantic_ai.models.function import FunctionModel
    from rich.console import Console
    from rich.table import Table

    from aiagents import tracing
    from aiagents.tasks import Task

    exporter = InMemorySpanExporter()
    tracing.setup(exporter=exporter, batch=True)
    delay = args.latency_ms / 1000

    async def sleepy(x: int) -> int:
        await asyncio.sleep(delay)
        return x

    async def model_fn(messages, info):  # noqa: ANN001, ANN202
        await asyncio.sleep(delay)
        args_ = {"title": "Road bike", "category": "bikes", "price": 350, "condition": "good"}
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, args_)])

    n = args.cases
    plain = Dataset(name="bench-plain", cases=[Case(name=f"c{i}", inputs=i, expected_output=i) for i in range(n)])
    listing = Dataset(
        name="bench-task",
        cases=[
            Case(name=f"c{i}", inputs={"listing": f"Road bike #{i}, 350 EUR"}, expected_output={"category": "bikes"})
            for i in range(n)
        ],
    )
    task = Task("listing-attributes", model=FunctionModel(model_fn, model_name="sleepy-50ms"))
    rows = []
    for label, ds, target, evs in (
        ("async callable (sleep 50 ms)", plain, sleepy, [ExactMatch()]),
        ("Task on FunctionModel (50 ms)", listing, task, [FieldsMatch(fields={"category": "exact"}, only_listed=True)]),
    ):
        t0 = time.perf_counter()
        run = asyncio.run(
            run_eval(
                ds,
                target,
                evs,
                concurrency=args.concurrency,
                out_dir=tmp / label.split()[0],
                cache=False,
                progress=False,
                resume=False,
            )
        )
        wall = time.perf_counter() - t0
        exporter.clear()
        rows.append(
            {
                "target": label,
                "cases": n,
                "concurrency": args.concurrency,
                "latency_ms": args.latency_ms,
                "wall_s": round(wall, 3),
                "cases_per_s": round(n / wall, 1),
                "floor_s": round(n * delay / args.concurrency, 3),
                "completed": run.summary.completed,
                "errors": run.summary.errors,
                "p50_case_ms": round(run.summary.latency_ms["p50"], 1),
                "p95_case_ms": round(run.summary.latency_ms["p95"], 1),
                "under_15s": wall < 15,
            }
        )
    table = Table("target", "cases", "conc.", "wall s", "cases/s", "floor s", "p50 ms", "p95 ms", "errors", "< 15 s")
    for r in rows:
        table.add_row(
            r["target"],
            str(r["cases"]),
            str(r["concurrency"]),
            f"{r['wall_s']:.2f}",
            f"{r['cases_per_s']:.0f}",
            f"{r['floor_s']:.2f}",
            f"{r['p50_case_ms']:.1f}",
            f"{r['p95_case_ms']:.1f}",
            str(r["errors"]),
            "yes" if r["under_15s"] else "NO",
        )
    Console(width=150).print(table)
    out = Path(__file__).parent / "results" / "evals_runner.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"machine": {"cpus": os.cpu_count(), "python": platform.python_version()}, "runs": rows}, indent=2)
        + "\n"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
