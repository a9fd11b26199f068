"""Benchmark: BFCL checker throughput (gold + perturbations) and the model path's concurrency.

    python bench/evals_bfcl.py [--data ../shared/data/bfcl] [--latency-ms 50] [--concurrency 16]

Prints what it measured on this machine: seconds to load, to check every gold answer and every
perturbation, and wall time for the single-turn questions against a FunctionModel that sleeps
`latency-ms` per request (no network) at the given concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

from aiagents.evals.bfcl import load_cases, score_gold, score_model, score_perturbations
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel


async def _slow(latency_s: float):
    async def policy(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        await asyncio.sleep(latency_s)
        return ModelResponse(parts=[TextPart("no call")])

    return FunctionModel(policy)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "bfcl")
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args()
    t0 = time.perf_counter()
    cases = load_cases(args.data)
    t1 = time.perf_counter()
    gold = score_gold(cases)
    t2 = time.perf_counter()
    pert = score_perturbations(cases)
    t3 = time.perf_counter()
    single = {c: v for c, v in cases.items() if v and not v[0].multi_turn}
    model = asyncio.run(_slow(args.latency_ms / 1000))
    scores, _ = asyncio.run(score_model(model, single, concurrency=args.concurrency))
    t4 = time.perf_counter()
    n_q = sum(s.cases for s in scores.values())
    print(
        json.dumps(
            {
                "load_s": round(t1 - t0, 3),
                "gold": {"cases": sum(s.cases for s in gold.values()), "seconds": round(t2 - t1, 3)},
                "perturb": {"cases": sum(s.cases for s in pert.values()), "seconds": round(t3 - t2, 3)},
                "model": {
                    "questions": n_q,
                    "latency_ms": args.latency_ms,
                    "concurrency": args.concurrency,
                    "seconds": round(t4 - t3, 3),
                    "floor_s": round(n_q * args.latency_ms / 1000 / args.concurrency, 3),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
