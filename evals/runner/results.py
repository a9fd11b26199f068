"""Results of an eval run: one JSON line per case (appended as each finishes) and a summary.

A run folder holds `meta.json` (the experiment's identity, written first), `results.jsonl` (per case)
and `summary.json` (aggregates + metadata, written at the end). Later lines for the same case replace
earlier ones (a resumed run re-attempts cases that errored).
"""

from __future__ import annotations

import json
import math
import statistics
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic_evals.evaluators import EvaluationReason

from aiagents.errors import UserError

__all__ = [
    "CaseResult",
    "MetricResult",
    "MetricSummary",
    "ResultsWriter",
    "RunSummary",
    "load_results",
    "metric_results",
    "summarise",
    "META_FILE",
    "RESULTS_FILE",
    "SUMMARY_FILE",
]

META_FILE = "meta.json"
RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"


@dataclass(kw_only=True)
class MetricResult:
    """One evaluator result on one case."""

    score: float | None = None
    """Numeric value (booleans as 1.0 / 0.0)."""
    passed: bool | None = None
    """Pass/fail when the evaluator gives a boolean."""
    label: str | None = None
    """Label when the evaluator gives a string."""
    reason: str | None = None
    """The evaluator's explanation."""
    kind: str = "CODE"
    """Annotator kind for Phoenix: CODE or LLM."""


def _one(value: Any, reason: str | None, kind: str) -> MetricResult:
    if isinstance(value, bool):
        return MetricResult(score=1.0 if value else 0.0, passed=value, reason=reason, kind=kind)
    if isinstance(value, int | float):
        return MetricResult(score=float(value), reason=reason, kind=kind)
    return MetricResult(label=None if value is None else str(value), reason=reason, kind=kind)


def metric_results(name: str, raw: Any, *, kind: str = "CODE") -> dict[str, MetricResult]:
    """An evaluator's output (bool, number, label, `EvaluationReason` or a mapping of those) as metrics."""
    if isinstance(raw, Mapping):
        out: dict[str, MetricResult] = {}
        for k, v in raw.items():
            out.update(metric_results(str(k), v, kind=kind))
        return out
    if isinstance(raw, EvaluationReason):
        return {name: _one(raw.value, raw.reason, kind)}
    return {name: _one(raw, None, kind)}


@dataclass(kw_only=True)
class CaseResult:
    """The run of one case: output (or error), metrics, timing, trace ids."""

    name: str
    inputs: Any = None
    expected_output: Any = None
    output: Any = None
    """The output as JSON data."""
    error: str | None = None
    """`Type: message` of the last failure when every attempt failed."""
    attempts: int = 0
    cached: bool = False
    """Served from the call cache (no model call)."""
    latency_ms: float = 0.0
    """Wall time of the successful attempt (or of all attempts when it failed)."""
    metrics: dict[str, MetricResult] = field(default_factory=dict)
    usage: dict[str, Any] = field(default_factory=dict)
    trace_id: str | None = None
    span_id: str | None = None
    """The case's CHAIN span (evaluator annotations are attached to it)."""
    finished_at: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CaseResult:
        d = dict(data)
        d["metrics"] = {k: MetricResult(**v) for k, v in (d.get("metrics") or {}).items()}
        return cls(**d)


class ResultsWriter:
    """Appends one JSON line per finished case and flushes it (an interrupted run keeps what finished)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._file = path.open("a", encoding="utf-8")

    def write(self, result: CaseResult) -> None:
        line = json.dumps(result.to_json(), ensure_ascii=False, default=str)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        self._file.close()


def load_results(path: Path) -> dict[str, CaseResult]:
    """Case name -> its last result line in `path` (a results.jsonl); a torn last line is ignored."""
    out: dict[str, CaseResult] = {}
    if not path.exists():
        return out
    lines = path.read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            if n == len(lines):  # the process died mid-write: that case simply runs again
                continue
            raise UserError(f"{path}:{n}: not a JSON line ({exc.msg}); delete the line or start a new run") from exc
        out[data["name"]] = CaseResult.from_json(data)
    return out


@dataclass(kw_only=True)
class MetricSummary:
    """One metric over the cases that produced it."""

    mean: float | None
    """Mean score (None for label-only metrics)."""
    count: int
    """Cases with a value for this metric."""
    pass_rate: float | None = None
    """Share of passes, for boolean metrics."""
    labels: dict[str, int] = field(default_factory=dict)
    """Label -> count, for label metrics."""


@dataclass(kw_only=True)
class RunSummary:
    """Aggregates of a run plus its metadata (see `aiagents.evals.runner.run_eval`)."""

    metrics: dict[str, MetricSummary]
    cases: int
    """Cases in the dataset."""
    completed: int
    """Cases with an output."""
    errors: int
    cached: int
    latency_ms: dict[str, float]
    """mean, p50, p95 and max over completed cases."""
    usage: dict[str, float]
    """Summed requests, tokens and cost."""
    error_examples: list[dict[str, str]] = field(default_factory=list)
    """Up to 5 (case, error) pairs."""
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunSummary:
        d = dict(data)
        d["metrics"] = {k: MetricSummary(**v) for k, v in d["metrics"].items()}
        return cls(**d)


def _percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarise(results: Iterable[CaseResult], *, total: int, meta: Mapping[str, Any] | None = None) -> RunSummary:
    """Means, pass rates, counts, errors and latency over `results`."""
    results = list(results)
    done = [r for r in results if r.ok]
    names = sorted({m for r in done for m in r.metrics})
    metrics: dict[str, MetricSummary] = {}
    for name in names:
        values = [r.metrics[name] for r in done if name in r.metrics]
        scores = [v.score for v in values if v.score is not None]
        passes = [v.passed for v in values if v.passed is not None]
        labels: dict[str, int] = {}
        for v in values:
            if v.label is not None:
                labels[v.label] = labels.get(v.label, 0) + 1
        metrics[name] = MetricSummary(
            mean=statistics.fmean(scores) if scores else None,
            count=len(values),
            pass_rate=sum(passes) / len(passes) if passes else None,
            labels=labels,
        )
    lat = sorted(r.latency_ms for r in done)
    usage: dict[str, float] = {}
    for r in done:
        for k, v in r.usage.items():
            if isinstance(v, int | float) and not isinstance(v, bool):
                usage[k] = usage.get(k, 0) + v
    failed = [r for r in results if not r.ok]
    return RunSummary(
        metrics=metrics,
        cases=total,
        completed=len(done),
        errors=len(failed),
        cached=sum(r.cached for r in done),
        latency_ms={
            "mean": statistics.fmean(lat) if lat else 0.0,
            "p50": _percentile(lat, 50),
            "p95": _percentile(lat, 95),
            "max": lat[-1] if lat else 0.0,
        },
        usage=usage,
        error_examples=[{"case": r.name, "error": r.error or ""} for r in failed[:5]],
        meta=dict(meta or {}),
    )
