"""Run a target over a dataset: bounded concurrency, per-case timeout, retries with backoff, call cache,
progress bar, one traced CHAIN span per case, results appended per case, resumable, summarised."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiagents.evals.cache import CallCache, cache_key
from aiagents.evals.datasets import Case, Dataset
from aiagents.evals.evaluators.context import EXPECTED_DOCUMENTS_KEY, EXPECTED_TRAJECTORY_KEY, make_context
from aiagents.evals.runner.results import (
    META_FILE,
    RESULTS_FILE,
    SUMMARY_FILE,
    CaseResult,
    ResultsWriter,
    RunSummary,
    load_results,
    metric_results,
    summarise,
)
from aiagents.evals.runner.targets import Target, TargetOutput, as_target, to_jsonable
from opentelemetry.trace import Status, StatusCode
from pydantic_evals.evaluators import Evaluator
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from aiagents.errors import RunError, UserError
from aiagents.settings import get_settings
from aiagents.tracing import attributes as oi
from aiagents.tracing import get_tracer, trace_id_hex

__all__ = [
    "EvalRun",
    "EvalRunError",
    "EvalRunInterrupted",
    "ResumeMismatchError",
    "default_out_dir",
    "git_commit",
    "run_eval",
    "run_eval_sync",
]

_IDENTITY_KEYS = ("dataset", "dataset_version", "target", "model", "prompt_versions", "evaluators")


class EvalRunError(RunError):
    """An eval run could not proceed."""


class ResumeMismatchError(UserError):
    """The output folder holds a different experiment (another dataset version, model or prompt)."""


@dataclass(kw_only=True)
class EvalRun:
    """A finished (or resumed-and-finished) run."""

    summary: RunSummary
    results: list[CaseResult]
    """One per dataset case, in dataset order."""
    out_dir: Path | None
    resumed: int = 0
    """Cases taken from an earlier, interrupted run of the same experiment."""
    model_calls: int = 0
    """Target calls actually made in this process (cache hits and resumed cases excluded)."""
    annotations: dict[str, int] = field(default_factory=dict)
    """What happened to the Phoenix annotations: sent / queued."""


def git_commit(cwd: Path | None = None) -> str | None:
    """`HEAD` of the git repository around `cwd` (with `+dirty` when tracked files changed), or None."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd, capture_output=True, text=True, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{sha}+dirty" if dirty else sha


def _slug(text: str, limit: int = 40) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:limit]


def runs_dir() -> Path:
    """Where eval runs are kept: `<data>/evals/runs/<run id>/`."""
    return get_settings().data_dir / "evals" / "runs"


def default_out_dir(dataset: Dataset, target: Target) -> Path:
    """`<data>/evals/runs/<dataset>-<version>-<model>-<prompt versions>`: the same experiment lands in the same
    folder, so rerunning an interrupted run resumes it. The name and model are cut to 40 characters each; the
    dataset and prompt versions are kept whole (they tell runs apart)."""
    prompts = "-".join(f"{v}" for _, v in sorted(target.prompt_versions.items()))
    parts = [_slug(dataset.name), dataset.version, _slug(target.model or target.name), _slug(prompts, 200)]
    return runs_dir() / ("-".join(p for p in parts if p) or "run")


def _evaluator_name(ev: Evaluator[Any, Any, Any]) -> str:
    try:
        return ev.get_default_evaluation_name()
    except Exception:  # noqa: BLE001 - a name is only a label
        return type(ev).__name__


def _context(case: Case, output: Any, duration: float) -> Any:
    return make_context(
        output,
        expected_output=case.expected_output,
        inputs=case.inputs,
        metadata={
            **case.metadata,
            EXPECTED_DOCUMENTS_KEY: case.expected_documents,
            EXPECTED_TRAJECTORY_KEY: case.expected_trajectory,
        },
        duration=duration,
        name=case.name,
    )


async def _evaluate(case: Case, output: Any, duration: float, evaluators: Sequence[Evaluator[Any, Any, Any]]):
    from aiagents.evals.judge import JudgeEvaluator

    ctx = _context(case, output, duration)
    metrics = {}
    for ev in evaluators:
        name = _evaluator_name(ev)
        kind = "LLM" if isinstance(ev, JudgeEvaluator) else "CODE"
        try:
            raw = await ev.evaluate_async(ctx)
        except Exception as exc:  # noqa: BLE001 - one broken evaluator must not sink the case
            metrics.update(metric_results(name, None, kind=kind))
            metrics[name].reason = f"evaluator failed: {type(exc).__name__}: {exc}"
            metrics[name].label = "evaluator_error"
            continue
        metrics.update(metric_results(name, raw, kind=kind))
    return metrics


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("errors {task.fields[errors]}  cached {task.fields[cached]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=False,
    )


async def run_eval(
    dataset: Dataset,
    target: Any,
    evaluators: Sequence[Evaluator[Any, Any, Any]] = (),
    *,
    model: str | None = None,
    out_dir: str | Path | None = None,
    concurrency: int = 8,
    timeout: float | None = 60.0,
    retries: int = 2,
    backoff: float = 0.5,
    cache: CallCache | bool = True,
    resume: bool = True,
    progress: bool = True,
    experiment: str | None = None,
    metadata: dict[str, Any] | None = None,
    phoenix_url: str | None = None,
    stop_after: int | None = None,
    on_case: Callable[[CaseResult], None] | None = None,
) -> EvalRun:
    """Run `target` on every case of `dataset`, judge each output with `evaluators`, write and summarise.

    - `target`: an async callable `inputs -> output`, a `Task`, an object with `ask`/`run`, or a `Target`;
      `model` is passed to a `Task` adapter.
    - concurrency: at most `concurrency` cases in flight (`asyncio.Semaphore`); `timeout` seconds per
      attempt; `retries` more attempts after an exception or timeout, sleeping `backoff * 2**i` between.
      A `UserError` (misuse) is not retried, nor an error that says retrying cannot help (`retryable` False: a
      context overflow, a bad key).
    - cache: cacheable targets (a `Task`) are served from the call cache when the (target, model, prompt
      versions, inputs) key was seen; `cache=False` turns it off.
    - out_dir: results are appended to `out_dir/results.jsonl` as cases finish; with `resume`, cases that
      already succeeded there are skipped (the folder must hold the same experiment). None writes under
      `default_out_dir(...)`; pass `out_dir=False`-like `""` to keep results in memory only.
    - each case runs in a CHAIN span `eval case <name>`; its evaluator results are sent to Phoenix as span
      annotations when `phoenix_url` is given (queued in a file when Phoenix is unreachable).
    - `stop_after`: stop scheduling after this many cases finished (simulates an interrupted run).
    """
    if concurrency < 1:
        raise UserError(f"concurrency must be at least 1, got {concurrency}")
    tgt = as_target(target, model=model)
    call_cache: CallCache | None = None
    if tgt.cacheable and cache is not False:
        call_cache = CallCache() if cache is True else cache
    out = None if out_dir == "" else Path(out_dir) if out_dir is not None else default_out_dir(dataset, tgt)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    meta: dict[str, Any] = {
        "experiment": experiment or f"{dataset.name}@{tgt.model or tgt.name}",
        "dataset": dataset.name,
        "dataset_version": dataset.version,
        "target": tgt.name,
        "model": tgt.model,
        "prompt_versions": tgt.prompt_versions,
        "evaluators": [_evaluator_name(ev) for ev in evaluators],
        "git_commit": git_commit(),
        "started_at": started_at,
        "concurrency": concurrency,
        "timeout_s": timeout,
        "retries": retries,
        **(metadata or {}),
    }
    previous: dict[str, CaseResult] = {}
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        meta_path = out / META_FILE
        if resume and meta_path.exists() and (out / RESULTS_FILE).exists():
            old = json.loads(meta_path.read_text())
            diff = [k for k in _IDENTITY_KEYS if old.get(k) != meta.get(k)]
            if diff:
                raise ResumeMismatchError(
                    f"{out} holds another experiment (different {', '.join(diff)}); pass a new --out folder "
                    "or --fresh to overwrite it."
                )
            previous = {k: v for k, v in load_results(out / RESULTS_FILE).items() if v.ok}
        elif not resume:
            for name in (RESULTS_FILE, SUMMARY_FILE):
                (out / name).unlink(missing_ok=True)
        meta_path.write_text(json.dumps(meta, indent=2, default=str))
    writer = ResultsWriter(out / RESULTS_FILE) if out is not None else None

    names = {c.name for c in dataset.cases}
    previous = {k: v for k, v in previous.items() if k in names}
    todo = [c for c in dataset.cases if c.name not in previous]
    sem = asyncio.Semaphore(concurrency)
    tracer = get_tracer("aiagents.evals.runner")
    fresh: dict[str, CaseResult] = {}
    calls = 0
    finished = 0
    stop = asyncio.Event()

    async def attempt(case: Case) -> tuple[Any, dict[str, Any], bool, int, float, str | None]:
        """(output, usage, cached, attempts, latency_ms, error)."""
        nonlocal calls
        key = None
        if call_cache is not None:
            key = cache_key(target=tgt.name, model=tgt.model, prompt_versions=tgt.prompt_versions, inputs=case.inputs)
            hit = call_cache.get(key)
            if hit is not None:
                output = tgt.decode(hit["output"]) if tgt.decode else hit["output"]
                return output, hit.get("usage", {}), True, 0, 0.0, None
        error = None
        t_all = time.perf_counter()
        for i in range(retries + 1):
            t0 = time.perf_counter()
            try:
                calls += 1
                raw = await asyncio.wait_for(tgt(case.inputs), timeout)
            except UserError:
                raise
            except (Exception, TimeoutError) as exc:  # noqa: BLE001 - any failure of the target is retried
                error = f"{type(exc).__name__}: {exc}" if str(exc) else f"{type(exc).__name__} after {timeout} s"
                if getattr(exc, "retryable", True) is False:  # a context overflow fails the same way every time
                    return None, {}, False, i + 1, (time.perf_counter() - t_all) * 1000, error
                if i < retries:
                    await asyncio.sleep(backoff * 2**i)
                continue
            latency = (time.perf_counter() - t0) * 1000
            usage = raw.usage if isinstance(raw, TargetOutput) else {}
            output = raw.output if isinstance(raw, TargetOutput) else raw
            if call_cache is not None and key is not None:
                call_cache.put(key, {"output": to_jsonable(output), "usage": usage})
            return output, usage, False, i + 1, latency, None
        return None, {}, False, retries + 1, (time.perf_counter() - t_all) * 1000, error

    async def one(case: Case, progress_bar: Progress, task_id: Any) -> None:
        nonlocal finished
        async with sem:
            if stop.is_set():
                return
            with tracer.start_as_current_span(f"eval case {case.name}") as span:
                span.set_attribute(oi.SPAN_KIND, oi.CHAIN)
                span.set_attribute(oi.INPUT_VALUE, json.dumps(to_jsonable(case.inputs), ensure_ascii=False))
                span.set_attribute(oi.INPUT_MIME_TYPE, "application/json")
                span.set_attribute(
                    oi.METADATA,
                    json.dumps(
                        {"experiment": meta["experiment"], "dataset": dataset.name, "case": case.name},
                        ensure_ascii=False,
                    ),
                )
                output, usage, cached, attempts, latency, error = await attempt(case)
                if error is None:
                    span.set_attribute(oi.OUTPUT_VALUE, json.dumps(to_jsonable(output), ensure_ascii=False))
                    span.set_attribute(oi.OUTPUT_MIME_TYPE, "application/json")
                    span.set_status(Status(StatusCode.OK))
                else:
                    span.set_status(Status(StatusCode.ERROR, error))
                ctx = span.get_span_context()
                trace_id = trace_id_hex(span)
                span_id = f"{ctx.span_id:016x}" if ctx.is_valid else None
            metrics = await _evaluate(case, output, latency / 1000, evaluators) if error is None else {}
            result = CaseResult(
                name=case.name,
                inputs=to_jsonable(case.inputs),
                expected_output=to_jsonable(case.expected_output),
                output=to_jsonable(output),
                error=error,
                attempts=attempts,
                cached=cached,
                latency_ms=latency,
                metrics=metrics,
                usage=usage,
                trace_id=trace_id,
                span_id=span_id,
                finished_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
            )
            fresh[case.name] = result
            if writer is not None:
                writer.write(result)
            if on_case is not None:
                on_case(result)
            finished += 1
            if stop_after is not None and finished >= stop_after:
                stop.set()
            progress_bar.update(
                task_id,
                advance=1,
                errors=sum(not r.ok for r in fresh.values()),
                cached=sum(r.cached for r in fresh.values()),
            )

    try:
        with _progress(progress) as bar:
            task_id = bar.add_task(
                f"eval {dataset.name}", total=len(dataset.cases), completed=len(previous), errors=0, cached=0
            )
            await asyncio.gather(*(one(c, bar, task_id) for c in todo))
    finally:
        if writer is not None:
            writer.close()

    if stop.is_set() and len(fresh) + len(previous) < len(dataset.cases):
        raise EvalRunInterrupted(f"stopped after {len(fresh)} cases (stop_after={stop_after})", results=fresh)

    ordered = [previous.get(c.name) or fresh[c.name] for c in dataset.cases]
    meta["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    summary = summarise(ordered, total=len(dataset.cases), meta=meta)
    run = EvalRun(summary=summary, results=ordered, out_dir=out, resumed=len(previous), model_calls=calls)
    if phoenix_url:
        from aiagents.evals.phoenix import send_annotations

        run.annotations = send_annotations([r for r in fresh.values() if r.ok], phoenix_url)
    if out is not None:
        (out / SUMMARY_FILE).write_text(json.dumps(summary.to_json(), indent=2, default=str))
    return run


class EvalRunInterrupted(EvalRunError):
    """`stop_after` cut the run short; the finished cases are in the results file (rerun to resume)."""

    def __init__(self, message: str, *, results: dict[str, CaseResult]) -> None:
        super().__init__(message)
        self.results = results


def run_eval_sync(*args: Any, **kwargs: Any) -> EvalRun:
    """Blocking form of `run_eval`."""
    return asyncio.run(run_eval(*args, **kwargs))
