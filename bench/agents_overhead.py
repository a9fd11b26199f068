"""Benchmark: what the agents layer costs per run, beyond the model.

    python bench/agents_overhead.py [--runs 200] [--real-index] [--out bench/results/agents_overhead.json]

All runs use a scripted `FunctionModel` (search, then answer: 2 model requests, 1 tool call) so the
numbers are the framework's CPU, not a provider's latency. The overheads over bare pydantic-ai are
measured paired: each iteration runs bare `Agent.run` and then the framework's run, and the figure is
the median of the per-iteration differences (a busy machine slows both alike; sequential blocks of runs
drifted by 30% here):

- bare pydantic-ai `Agent.run` with the same tool (the floor);
- `PromptAgent.run` (prompt, limits, rollout toolset, trajectory) with tracing not set up;
- the same with tracing set up (pydantic-ai instrumentation + OpenInference processor + our run
  processor, spans to an in-memory exporter);
- references for the traced run, in the same run: bare pydantic-ai with its own instrumentation and no span
  processor, and with the setup Phoenix documents for it (OpenInference's processor and an exporter);
- where the traced run's extra time goes: the OpenInference rewrite and the secret scrub timed alone on the
  run's spans, and the garbage collector's time per run (bare and traced);
- `Trajectory.from_messages` and `Trajectory.from_spans` on one run;
- a `ReplayModel` playing the recorded run back;
- rollout decisions per second (SHA-256 bucket per tool and user);
- with `--real-index`: the offline docs agent over the shipped demo corpus (ingested into a temporary
  data folder), i.e. query embedding + hybrid search + extractive answer.

Prints one JSON object (and writes it to --out); the numbers are what this machine measured.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("AIAGENTS_DATA_DIR", tempfile.mkdtemp(prefix="agents-bench-"))

from aiagents.retrieval.types import Hit  # noqa: E402
from aiagents.tools.docs import docs_toolset  # noqa: E402
from aiagents.tools.rollout import RolloutConfig, RolloutToolset  # noqa: E402
from pydantic_ai import Agent, FunctionToolset  # noqa: E402
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart  # noqa: E402
from pydantic_ai.models.function import AgentInfo, FunctionModel  # noqa: E402

from aiagents.agents import PromptAgent, SessionStore  # noqa: E402
from aiagents.models import ReplayModel  # noqa: E402
from aiagents.trajectory import Trajectory  # noqa: E402

QUESTION = "How long does a refund take?"


class Docs:
    def search(self, query: str, k: int = 5, mode: str = "hybrid", filters: Any = None) -> list[Hit]:
        return [Hit(id=f"refunds#{i}", text="A refund is paid within 14 days.", score=1.0 - i / 10) for i in range(k)]


def scripted(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    if len(messages) == 1:
        return ModelResponse(parts=[ToolCallPart("search_docs", {"query": QUESTION})])
    return ModelResponse(parts=[TextPart("A refund is paid within 14 days [refunds#0].")])


def ms_stats(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {
        "p50_ms": round(statistics.median(samples), 3),
        "p90_ms": round(samples[int(len(samples) * 0.9) - 1], 3),
        "mean_ms": round(statistics.fmean(samples), 3),
    }


async def timed(fn: Callable[[], Awaitable[Any]], runs: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        await fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def paired(
    reference: Callable[[], Awaitable[Any]], candidate: Callable[[], Awaitable[Any]], runs: int, warmup: int = 10
) -> dict[str, float]:
    """Interleaved runs: the reference's and the candidate's p50 and the median per-pair difference."""
    for _ in range(warmup):
        await reference()
        await candidate()
    ref, cand = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        await reference()
        t1 = time.perf_counter()
        await candidate()
        t2 = time.perf_counter()
        ref.append((t1 - t0) * 1000)
        cand.append((t2 - t1) * 1000)
    return {
        "reference_p50_ms": round(statistics.median(ref), 3),
        "p50_ms": round(statistics.median(cand), 3),
        "overhead_ms": round(statistics.median(c - r for c, r in zip(cand, ref, strict=True)), 3),
        "ratio": round(statistics.median(cand) / statistics.median(ref), 3),
    }


def timed_sync(fn: Callable[[], Any], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def gc_per_run(run: Callable[[], Awaitable[Any]], runs: int) -> dict[str, float]:
    """The garbage collector over `runs` runs (gc callbacks): its time and its collections per run."""
    spent, started, collections = [0.0], [0.0], [0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
            collections[0] += 1
        else:
            spent[0] += time.perf_counter() - started[0]

    gc.callbacks.append(on_gc)
    try:
        for _ in range(runs):
            await run()
    finally:
        gc.callbacks.remove(on_gc)
    return {"ms": round(spent[0] / runs * 1000, 3), "collections": round(collections[0] / runs, 2)}


async def instrumented_references(bare: Agent[None, str], tool: Callable[..., Any], runs: int) -> dict[str, Any]:
    """The same bare agent with pydantic-ai's own instrumentation, paired against the bare run: alone (an SDK
    tracer provider with no processor: the floor of any tracing built on it), and in the setup Phoenix documents
    for pydantic-ai (OpenInference's span processor, then an exporter; here in memory, exported as the span
    ends). Each has its own tracer provider, so the framework's global one is not involved."""
    from openinference.instrumentation.pydantic_ai import OpenInferenceSpanProcessor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from pydantic_ai import InstrumentationSettings
    from pydantic_ai.capabilities import Instrumentation

    def instrumented(provider: TracerProvider) -> Agent[None, str]:
        instrumentation = Instrumentation(InstrumentationSettings(tracer_provider=provider))
        return Agent(FunctionModel(scripted), toolsets=[FunctionToolset([tool])], capabilities=[instrumentation])

    alone = instrumented(TracerProvider())
    documented, exported = TracerProvider(), InMemorySpanExporter()
    documented.add_span_processor(OpenInferenceSpanProcessor())
    documented.add_span_processor(SimpleSpanProcessor(exported))
    phoenix_setup = instrumented(documented)

    async def documented_run() -> Any:
        result = await phoenix_setup.run(QUESTION)
        exported.clear()
        return result

    return {
        "pydantic_ai_instrumented_vs_bare": await paired(lambda: bare.run(QUESTION), lambda: alone.run(QUESTION), runs),
        "phoenix_documented_setup_vs_bare": await paired(lambda: bare.run(QUESTION), documented_run, runs),
    }


async def breakdown(
    spans: Any, *, bare_run: Callable[[], Awaitable[Any]], traced_run: Callable[[], Awaitable[Any]], runs: int
) -> dict[str, Any]:
    """Where the traced run's extra time goes, each part timed alone on this run's spans.

    The OpenInference rewrite is timed on copies of the exported spans (it reads the same GenAI attributes
    it read when they ended); the scrub is the exporter's secret search over the run's texts; the garbage
    collector's time per run is measured for bare and traced runs alike. What the parts do not cover is
    pydantic-ai's instrumentation (serialising each request's messages and parameters) and the spans'
    own start and end."""
    from openinference.instrumentation.pydantic_ai import OpenInferenceSpanProcessor

    from aiagents.secrets import scrubber
    from aiagents.tracing.scrub import scrub_spans
    from aiagents.tracing.span_copy import copy_span

    rewrite = OpenInferenceSpanProcessor()
    gen_ai = [s for s in spans if "gen_ai.operation.name" in (s.attributes or {})]

    def rewrite_all() -> None:
        for span in gen_ai:
            rewrite.on_end(copy_span(span))

    texts = [v for s in spans for v in (s.attributes or {}).values() if isinstance(v, str)]
    return {
        "spans": len(spans),
        "attributes": sum(len(s.attributes or {}) for s in spans),
        "attribute_text_kb": round(sum(len(t) for t in texts) / 1024, 1),
        "openinference_rewrite_ms": ms_stats(timed_sync(rewrite_all, runs))["p50_ms"],
        "scrub_ms": ms_stats(timed_sync(lambda: scrub_spans(spans, scrubber()), runs))["p50_ms"],
        "gc_bare": await gc_per_run(bare_run, runs),
        "gc_traced": await gc_per_run(traced_run, runs),
    }


def docs_agent(**kwargs: Any) -> PromptAgent[Any]:
    rollout = RolloutConfig.from_dict({"search_docs": "on", "fetch_document": "50%"})
    return PromptAgent(
        "docs-agent",
        toolsets=[RolloutToolset(docs_toolset(Docs()), rollout)],
        sessions=SessionStore(persist=False),
        **kwargs,
    )


async def main(runs: int, real_index: bool) -> dict[str, Any]:
    report: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "runs": runs,
        "scenario": "2 model requests (FunctionModel), 1 search_docs call returning 5 hits",
    }
    docs = Docs()

    def search_docs(query: str, k: int = 5) -> list[dict[str, Any]]:
        """Search."""
        return [{"id": h.id, "text": h.text, "score": h.score} for h in docs.search(query, k)]

    bare = Agent(FunctionModel(scripted), toolsets=[FunctionToolset([search_docs])])
    report["bare_pydantic_ai_agent"] = ms_stats(await timed(lambda: bare.run(QUESTION), runs))

    agent = docs_agent()
    model = FunctionModel(scripted)
    report["prompt_agent_untraced"] = ms_stats(
        await timed(lambda: agent.run(QUESTION, model=model, user_id="u1"), runs)
    )
    report["untraced_vs_bare"] = await paired(
        lambda: bare.run(QUESTION), lambda: agent.run(QUESTION, model=model, user_id="u1"), runs
    )
    report["prompt_agent_with_session"] = ms_stats(
        await timed(lambda: agent.run(QUESTION, model=model, user_id="u1", session_id="s-bench"), min(runs, 50))
    )

    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from aiagents import tracing

    exporter = InMemorySpanExporter()
    tracing.setup(exporter=exporter, batch=False)
    report["prompt_agent_traced_in_memory"] = ms_stats(
        await timed(lambda: agent.run(QUESTION, model=model, user_id="u1"), runs)
    )

    async def traced_run() -> Any:
        result = await agent.run(QUESTION, model=model, user_id="u1")
        exporter.clear()
        return result

    # Bare pydantic-ai is not instrumented (no `instrument=`), so it stays the floor after setup().
    report["traced_vs_bare"] = await paired(lambda: bare.run(QUESTION), traced_run, runs)
    report.update(await instrumented_references(bare, search_docs, runs))
    exporter.clear()
    result = await agent.run(QUESTION, model=model, user_id="u1")
    finished = exporter.get_finished_spans()
    report["spans_per_run"] = len(finished)
    report["traced_breakdown"] = await breakdown(
        finished, bare_run=lambda: bare.run(QUESTION), traced_run=traced_run, runs=runs
    )
    report["trajectory_from_messages"] = ms_stats(
        timed_sync(lambda: Trajectory.from_messages(result.messages, output=result.output), runs)
    )
    report["trajectory_from_spans"] = ms_stats(timed_sync(lambda: Trajectory.from_spans(finished), runs))
    report["from_spans_equals_from_messages"] = (
        Trajectory.from_spans(finished).comparable() == result.trajectory.comparable()
    )
    recorded = result.trajectory

    async def replay() -> Any:
        return await agent.run(QUESTION, model=ReplayModel(recorded), user_id="u1")

    report["replay_run_traced"] = ms_stats(await timed(replay, runs))

    config = RolloutConfig.from_dict({"a": "25%", "b": "50%", "c": {"allow": ["x"]}, "d": "on"})
    users = [f"user-{i}" for i in range(20_000)]
    t0 = time.perf_counter()
    for u in users:
        config.decide(["a", "b", "c", "d"], u)
    report["rollout_decisions_per_s"] = round(4 * len(users) / (time.perf_counter() - t0))

    if real_index:
        from aiagents.ingestion import ingest
        from aiagents.retrieval import Retriever, get_embedder, open_index

        corpus = Path(__file__).resolve().parents[1] / "aiagents" / "demo_data" / "docs"
        t0 = time.perf_counter()
        ingest(corpus, "bench-docs")
        ingest_s = time.perf_counter() - t0
        index = open_index("bench-docs")
        try:
            retriever = Retriever(index, get_embedder())
            real = PromptAgent("docs-agent", toolsets=[docs_toolset(retriever)], sessions=SessionStore(persist=False))
            questions = [QUESTION, "Can I pay with a gift card?", "How do I reset my password?", "Do you ship abroad?"]
            n = 0

            async def ask() -> Any:
                nonlocal n
                n += 1
                return await real.run(questions[n % len(questions)], model="offline")

            report["offline_docs_agent_demo_corpus"] = {
                "ingest_s": round(ingest_s, 2),
                **ms_stats(await timed(ask, min(runs, 100))),
            }
        finally:
            index.close()
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--real-index", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    data = asyncio.run(main(args.runs, args.real_index))
    text = json.dumps(data, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
