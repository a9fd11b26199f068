"""Runner: concurrency bound, timeouts, retries, cache hits, resumption, summary and per-case output."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiagents.evals import Case, Dataset, ExactMatch, FieldsMatch
from aiagents.evals.cache import CallCache
from aiagents.evals.runner import (
    EvalRunInterrupted,
    ResumeMismatchError,
    Target,
    load_results,
    run_eval,
)
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from aiagents.errors import UserError
from aiagents.tasks import Task


def _dataset(n: int, name: str = "nums") -> Dataset:
    return Dataset(name=name, cases=[Case(name=f"c{i}", inputs=i, expected_output=i * 2) for i in range(n)])


async def test_concurrency_never_exceeds_limit(tmp_path: Path) -> None:
    in_flight = peak = 0

    async def target(x: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return x * 2

    run = await run_eval(_dataset(40), target, [ExactMatch()], concurrency=5, out_dir=tmp_path, progress=False)
    assert peak == 5
    assert run.summary.completed == 40
    assert run.summary.metrics["exact"].mean == 1.0
    assert run.summary.metrics["exact"].pass_rate == 1.0


async def test_timeout_then_retry_succeeds_and_exhausted_retries_record_error(tmp_path: Path) -> None:
    calls: dict[int, int] = {}

    async def target(x: int) -> int:
        calls[x] = calls.get(x, 0) + 1
        if x == 0 and calls[x] == 1:
            await asyncio.sleep(1.0)  # first attempt of case 0 times out, the second is fast
        if x == 1:
            raise ConnectionError("provider down")
        return x * 2

    run = await run_eval(
        _dataset(3), target, [ExactMatch()], timeout=0.05, retries=2, backoff=0.0, out_dir=tmp_path, progress=False
    )
    by = {r.name: r for r in run.results}
    assert (by["c0"].attempts, by["c0"].error, by["c0"].output) == (2, None, 0)
    assert by["c1"].attempts == 3 and calls[1] == 3
    assert by["c1"].error == "ConnectionError: provider down"
    assert by["c2"].attempts == 1
    assert run.summary.errors == 1 and run.summary.completed == 2
    assert run.summary.error_examples == [{"case": "c1", "error": "ConnectionError: provider down"}]
    # the errored case has no metrics, the other two are judged
    assert run.summary.metrics["exact"].count == 2


async def test_timeout_error_message_names_the_timeout(tmp_path: Path) -> None:
    async def slow(x: int) -> int:
        await asyncio.sleep(1.0)
        return x

    run = await run_eval(_dataset(1), slow, timeout=0.02, retries=0, out_dir="", progress=False)
    assert run.results[0].error == "TimeoutError after 0.02 s"


async def test_user_error_is_not_retried(tmp_path: Path) -> None:
    calls = 0

    async def misuse(x: int) -> int:
        nonlocal calls
        calls += 1
        raise UserError("bad inputs")

    with pytest.raises(UserError):
        await run_eval(_dataset(1), misuse, retries=3, out_dir="", progress=False)
    assert calls == 1


def _listing_model(counter: list[int]) -> FunctionModel:
    def fn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        counter.append(1)
        args = {"title": "Road bike", "category": "bikes", "price": 350, "condition": "good"}
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, args)])

    return FunctionModel(fn, model_name="scripted")


async def test_task_target_second_run_is_served_from_cache(tmp_path: Path) -> None:
    counter: list[int] = []
    task = Task("listing-attributes", model=_listing_model(counter))
    ds = Dataset(
        name="listings",
        cases=[
            Case(
                name=f"l{i}",
                inputs={"listing": f"Road bike number {i}, 350 EUR"},
                expected_output={"category": "bikes", "price": 350},
            )
            for i in range(4)
        ],
    )
    evs = [FieldsMatch(fields={"category": "exact", "price": "numeric"}, only_listed=True)]
    cache = CallCache(path=tmp_path / "cache.sqlite")
    first = await run_eval(ds, task, evs, cache=cache, out_dir=tmp_path / "a", progress=False)
    assert len(counter) == 4 and first.model_calls == 4 and first.summary.cached == 0
    second = await run_eval(ds, task, evs, cache=cache, out_dir=tmp_path / "b", progress=False)
    assert len(counter) == 4, "a cache hit must not call the model"
    assert second.model_calls == 0 and second.summary.cached == 4
    assert second.summary.metrics["fields"].mean == 1.0
    # the cached output is rehydrated to the task's output type
    assert second.results[0].output["title"] == "Road bike"
    # a different prompt version is a different key: called again
    v2 = Task("listing-attributes-v2", model=_listing_model(counter))
    await run_eval(ds, v2, evs, cache=cache, out_dir=tmp_path / "c", progress=False)
    assert len(counter) == 8


async def test_interrupted_run_resumes_only_the_rest(tmp_path: Path) -> None:
    seen: list[int] = []

    async def target(x: int) -> int:
        seen.append(x)
        return x * 2

    ds = _dataset(10)
    with pytest.raises(EvalRunInterrupted):
        await run_eval(ds, target, [ExactMatch()], concurrency=1, out_dir=tmp_path, stop_after=4, progress=False)
    assert sorted(load_results(tmp_path / "results.jsonl")) == ["c0", "c1", "c2", "c3"]
    assert seen == [0, 1, 2, 3]
    run = await run_eval(ds, target, [ExactMatch()], concurrency=3, out_dir=tmp_path, progress=False)
    assert seen[4:] and sorted(seen[4:]) == [4, 5, 6, 7, 8, 9], "only the remaining cases run"
    assert run.resumed == 4 and run.summary.completed == 10
    assert [r.name for r in run.results] == [f"c{i}" for i in range(10)]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["completed"] == 10 and summary["meta"]["dataset_version"] == ds.version


async def test_resume_reattempts_errored_cases(tmp_path: Path) -> None:
    fail = True

    async def target(x: int) -> int:
        if fail and x == 2:
            raise RuntimeError("flaky")
        return x * 2

    ds = _dataset(3)
    first = await run_eval(ds, target, retries=0, out_dir=tmp_path, progress=False)
    assert first.summary.errors == 1
    fail = False
    second = await run_eval(ds, target, retries=0, out_dir=tmp_path, progress=False)
    assert second.resumed == 2 and second.model_calls == 1 and second.summary.errors == 0


async def test_resume_refuses_another_experiment(tmp_path: Path) -> None:
    async def target(x: int) -> int:
        return x

    await run_eval(_dataset(2), target, out_dir=tmp_path, progress=False)
    with pytest.raises(ResumeMismatchError, match="dataset_version"):
        await run_eval(_dataset(3), target, out_dir=tmp_path, progress=False)
    fresh = await run_eval(_dataset(3), target, out_dir=tmp_path, resume=False, progress=False)
    assert fresh.summary.completed == 3 and fresh.resumed == 0


async def test_summary_metadata_latency_and_sync_targets(tmp_path: Path) -> None:
    def sync_target(x: int) -> int:  # plain functions run in a thread
        return x * 2 if x else -1

    run = await run_eval(
        _dataset(4), sync_target, [ExactMatch()], concurrency=2, out_dir=tmp_path, progress=False, experiment="exp1"
    )
    s = run.summary
    assert s.metrics["exact"].mean == 0.75 and s.metrics["exact"].pass_rate == 0.75
    assert s.meta["experiment"] == "exp1" and s.meta["concurrency"] == 2
    assert s.meta["dataset"] == "nums" and s.meta["target"] == "sync_target"
    assert s.meta["git_commit"] is None or len(s.meta["git_commit"]) >= 40
    assert s.latency_ms["p50"] <= s.latency_ms["p95"] <= s.latency_ms["max"]
    assert run.results[0].metrics["exact"].reason.startswith("expected 0")


async def test_each_case_is_a_chain_span_with_the_target_nested(spans) -> None:  # noqa: ANN001
    from aiagents.tracing import get_tracer

    async def target(x: int) -> int:
        with get_tracer("t").start_as_current_span("inner"):
            return x

    run = await run_eval(_dataset(2), Target(fn=target, name="t"), out_dir="", progress=False)
    finished = spans.get_finished_spans()
    cases = {s.name: s for s in finished if s.name.startswith("eval case")}
    assert set(cases) == {"eval case c0", "eval case c1"}
    assert cases["eval case c0"].attributes["openinference.span.kind"] == "CHAIN"
    inner = [s for s in finished if s.name == "inner"]
    assert {s.parent.span_id for s in inner} == {s.context.span_id for s in cases.values()}
    assert {r.span_id for r in run.results} == {f"{s.context.span_id:016x}" for s in cases.values()}


async def test_concurrency_must_be_positive() -> None:
    with pytest.raises(UserError, match="concurrency"):
        await run_eval(_dataset(1), lambda x: x, concurrency=0, out_dir="", progress=False)
