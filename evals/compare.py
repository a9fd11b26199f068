"""Compare two eval runs case by case: per-metric deltas with a paired bootstrap confidence interval and
a paired sign-flip permutation test, the cases that regressed and improved, and a regression gate.

Only cases present (and successful) in both runs are paired. Every metric is taken as higher-is-better.
A pseudo-metric `completed` (1 when the case produced an output, else 0) catches new errors.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from aiagents.evals.runner.results import RESULTS_FILE, SUMMARY_FILE, CaseResult, load_results

from aiagents.errors import UserError

__all__ = [
    "CaseChange",
    "Comparison",
    "MetricDelta",
    "LoadedRun",
    "compare_runs",
    "load_run",
    "paired_bootstrap_ci",
    "parse_tolerances",
    "sign_flip_p_value",
    "COMPLETED_METRIC",
]

COMPLETED_METRIC = "completed"
_EXACT_PERMUTATION_MAX_N = 16


@dataclass(kw_only=True)
class LoadedRun:
    """A run read back from its folder (or its summary file)."""

    path: Path
    summary: dict[str, Any]
    results: dict[str, CaseResult]

    @property
    def label(self) -> str:
        meta = self.summary.get("meta", {})
        prompts = ",".join(f"{k}@{v}" for k, v in (meta.get("prompt_versions") or {}).items())
        return f"{meta.get('model') or meta.get('target') or self.path.name}" + (f" [{prompts}]" if prompts else "")


def load_run(path: str | Path) -> LoadedRun:
    """A run folder (with results.jsonl, summary.json) or a summary.json / results.jsonl file."""
    p = Path(path)
    folder = p if p.is_dir() else p.parent
    if not folder.exists() or (p.is_file() and p.suffix not in (".json", ".jsonl")):
        raise UserError(f"{p}: not an eval run folder or summary file; pass the --out folder of `aiagents eval run`")
    results = load_results(folder / RESULTS_FILE)
    summary_path = folder / SUMMARY_FILE
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    if not results and not summary:
        raise UserError(f"{p}: no {RESULTS_FILE} or {SUMMARY_FILE} there; run `aiagents eval run ... --out {folder}`")
    return LoadedRun(path=folder, summary=summary, results=results)


def paired_bootstrap_ci(
    diffs: np.ndarray | list[float], *, n_boot: int = 5000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of paired differences (resampling cases, seeded)."""
    d = np.asarray(diffs, dtype=float)
    if d.size == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, size=(n_boot, d.size))].mean(axis=1)
    alpha = 1 - confidence
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def sign_flip_p_value(diffs: np.ndarray | list[float], *, n_perm: int = 10000, seed: int = 0) -> float:
    """Two-sided paired permutation test of mean difference 0: the share of sign assignments whose |sum| is
    at least the observed |sum|. Exact (all 2^n assignments) for n <= 16, else `n_perm` seeded draws
    (with the +1 correction)."""
    d = np.asarray(diffs, dtype=float)
    d = d[d != 0]
    if d.size == 0:
        return 1.0
    observed = abs(d.sum()) - 1e-12
    if d.size <= _EXACT_PERMUTATION_MAX_N:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=d.size)))
        return float(np.mean(np.abs(signs @ d) >= observed))
    rng = np.random.default_rng(seed)
    signs = rng.choice((1.0, -1.0), size=(n_perm, d.size))
    return float((np.sum(np.abs(signs @ d) >= observed) + 1) / (n_perm + 1))


@dataclass(kw_only=True)
class CaseChange:
    """One case whose score on one metric changed."""

    case: str
    metric: str
    baseline: float
    candidate: float

    @property
    def delta(self) -> float:
        return self.candidate - self.baseline


@dataclass(kw_only=True)
class MetricDelta:
    """One metric, baseline vs candidate, over the paired cases."""

    metric: str
    n: int
    """Paired cases (both runs have a score)."""
    baseline: float
    candidate: float
    delta: float
    """candidate mean - baseline mean over the paired cases."""
    ci_low: float
    ci_high: float
    p_value: float
    """Paired sign-flip permutation test."""
    tolerance: float
    """Allowed drop before the gate fails."""
    regressed_cases: int
    improved_cases: int

    @property
    def regression(self) -> bool:
        """The metric dropped by more than its tolerance."""
        return self.delta < -self.tolerance - 1e-12


@dataclass(kw_only=True)
class Comparison:
    """Everything `aiagents eval compare` reports."""

    baseline: str
    candidate: str
    metrics: list[MetricDelta]
    regressed: list[CaseChange] = field(default_factory=list)
    improved: list[CaseChange] = field(default_factory=list)
    only_in_baseline: list[str] = field(default_factory=list)
    only_in_candidate: list[str] = field(default_factory=list)
    confidence: float = 0.95

    @property
    def regressions(self) -> list[MetricDelta]:
        """Metrics that dropped beyond their tolerance (what the gate fails on)."""
        return [m for m in self.metrics if m.regression]

    @property
    def passed(self) -> bool:
        return not self.regressions

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for m, src in zip(d["metrics"], self.metrics, strict=True):
            m["regression"] = src.regression
        d["regressions"] = [m.metric for m in self.regressions]
        d["passed"] = self.passed
        return d


def parse_tolerances(specs: list[str] | None) -> tuple[dict[str, float], float]:
    """`["accuracy=0.02", "*=0.01"]` -> ({"accuracy": 0.02}, default 0.01). A bare number is the default."""
    out: dict[str, float] = {}
    default = 0.0
    for spec in specs or []:
        name, eq, value = spec.partition("=")
        try:
            if not eq:
                default = float(name)
                continue
            tol = float(value)
        except ValueError as exc:
            raise UserError(f"--tolerance {spec!r}: expected METRIC=NUMBER (e.g. exact=0.02) or a number") from exc
        if tol < 0:
            raise UserError(f"--tolerance {spec!r}: a tolerance is an allowed drop, use a non-negative number")
        if name.strip() in ("*", ""):
            default = tol
        else:
            out[name.strip()] = tol
    return out, default


def _scores(results: Mapping[str, CaseResult]) -> dict[str, dict[str, float]]:
    """metric -> case -> score (plus the `completed` pseudo-metric)."""
    out: dict[str, dict[str, float]] = {COMPLETED_METRIC: {}}
    for name, r in results.items():
        out[COMPLETED_METRIC][name] = 1.0 if r.ok else 0.0
        if not r.ok:
            continue
        for metric, m in r.metrics.items():
            if m.score is not None:
                out.setdefault(metric, {})[name] = float(m.score)
    return out


def compare_runs(
    baseline: LoadedRun | str | Path,
    candidate: LoadedRun | str | Path,
    *,
    tolerances: Mapping[str, float] | None = None,
    default_tolerance: float = 0.0,
    metrics: list[str] | None = None,
    confidence: float = 0.95,
    n_boot: int = 5000,
    seed: int = 0,
) -> Comparison:
    """Pair the two runs' cases by name and compare every metric both have (or only `metrics`)."""
    base = baseline if isinstance(baseline, LoadedRun) else load_run(baseline)
    cand = candidate if isinstance(candidate, LoadedRun) else load_run(candidate)
    if not base.results or not cand.results:
        raise UserError("compare needs per-case results (results.jsonl) in both runs, not only summaries")
    bs, cs = _scores(base.results), _scores(cand.results)
    names = [m for m in bs if m in cs and (metrics is None or m in metrics)]
    if metrics:
        missing = [m for m in metrics if m not in names]
        if missing:
            raise UserError(f"metric(s) {missing} not in both runs; available: {sorted(set(bs) & set(cs))}")
    tol = dict(tolerances or {})
    deltas: list[MetricDelta] = []
    regressed: list[CaseChange] = []
    improved: list[CaseChange] = []
    for metric in sorted(names, key=lambda m: (m == COMPLETED_METRIC, m)):
        cases = [c for c in bs[metric] if c in cs[metric]]
        if not cases:
            continue
        b = np.array([bs[metric][c] for c in cases])
        c = np.array([cs[metric][c] for c in cases])
        d = c - b
        lo, hi = paired_bootstrap_ci(d, n_boot=n_boot, confidence=confidence, seed=seed)
        worse = [
            CaseChange(case=k, metric=metric, baseline=float(x), candidate=float(y))
            for k, x, y in zip(cases, b, c, strict=True)
            if y < x
        ]
        better = [
            CaseChange(case=k, metric=metric, baseline=float(x), candidate=float(y))
            for k, x, y in zip(cases, b, c, strict=True)
            if y > x
        ]
        regressed += worse
        improved += better
        deltas.append(
            MetricDelta(
                metric=metric,
                n=len(cases),
                baseline=float(b.mean()),
                candidate=float(c.mean()),
                delta=float(d.mean()),
                ci_low=lo,
                ci_high=hi,
                p_value=sign_flip_p_value(d, seed=seed),
                tolerance=tol.get(metric, default_tolerance),
                regressed_cases=len(worse),
                improved_cases=len(better),
            )
        )
    return Comparison(
        baseline=base.label,
        candidate=cand.label,
        metrics=deltas,
        regressed=sorted(regressed, key=lambda x: (x.delta, x.case)),
        improved=sorted(improved, key=lambda x: (-x.delta, x.case)),
        only_in_baseline=sorted(set(base.results) - set(cand.results)),
        only_in_candidate=sorted(set(cand.results) - set(base.results)),
        confidence=confidence,
    )
