"""The A/B report: per-variant metrics with confidence intervals, a test on the primary metric, a decision."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from aiagents.logstore import LogStore
from aiagents.rollout.config import Experiment
from aiagents.rollout.events import list_events
from aiagents.rollout.stats import (
    Interval,
    bootstrap,
    percentile,
    sample_size_two_proportions,
    two_proportion_z,
    wilson,
)

__all__ = ["variant_rows", "report", "decide", "ALPHA", "MIN_DETECTABLE_EFFECT", "LOWER_IS_BETTER"]

ALPHA = 0.05
"""Significance level of the primary-metric test."""
POWER = 0.8
MIN_DETECTABLE_EFFECT = 0.05
"""Smallest absolute difference of the primary rate worth detecting (the power calculation's target)."""
LOWER_IS_BETTER = {"error_rate", "correction_rate"}


def variant_rows(store: LogStore, experiment: str, since: float = 0.0) -> list[dict[str, Any]]:
    """One row per logged request of the experiment (since it started), with its feedback summarised."""
    return store.query(
        "SELECT r.request_id, r.variant, r.latency_ms, r.cost_usd, r.error_code, r.created_at, "
        "COALESCE(f.up, 0) AS up, COALESCE(f.down, 0) AS down, COALESCE(f.corrected, 0) AS corrected "
        "FROM requests r LEFT JOIN ("
        "  SELECT request_id, MAX(CASE WHEN thumbs = 'up' THEN 1 ELSE 0 END) AS up, "
        "  MAX(CASE WHEN thumbs = 'down' THEN 1 ELSE 0 END) AS down, "
        "  MAX(CASE WHEN corrected_output IS NOT NULL THEN 1 ELSE 0 END) AS corrected "
        "  FROM feedback GROUP BY request_id"
        ") f ON f.request_id = r.request_id WHERE r.experiment = ? AND r.created_at >= ?",
        (experiment, since),
    )


def _scores(store: LogStore, experiment: str) -> dict[str, dict[str, dict[str, float | int]]]:
    rows = store.query(
        "SELECT r.variant AS variant, s.name AS name, AVG(s.score) AS mean, COUNT(s.score) AS n FROM scores s "
        "JOIN requests r ON r.request_id = s.request_id "
        "WHERE r.experiment = ? AND s.score IS NOT NULL AND s.source = 'online' "
        "GROUP BY r.variant, s.name",
        (experiment,),
    )
    out: dict[str, dict[str, dict[str, float | int]]] = {}
    for row in rows:
        out.setdefault(row["variant"], {})[row["name"]] = {"mean": round(float(row["mean"]), 4), "n": int(row["n"])}
    return out


def _primary_counts(metric: str, m: dict[str, Any]) -> tuple[int, int]:
    """(successes, trials) of the primary metric for one variant's metrics."""
    if metric == "thumbs_up_rate":
        return m["thumbs_up"], m["thumbs_up"] + m["thumbs_down"]
    if metric == "error_rate":
        return m["errors"], m["requests"]
    return m["corrections"], m["requests"]


def _metrics(rows: list[dict[str, Any]], seed: int) -> dict[str, Any]:
    n = len(rows)
    errors = sum(1 for r in rows if r["error_code"])
    up = sum(int(r["up"]) for r in rows)
    down = sum(int(r["down"]) for r in rows)
    corrected = sum(int(r["corrected"]) for r in rows)
    latencies = [float(r["latency_ms"]) for r in rows]
    costs = [float(r["cost_usd"] or 0.0) for r in rows]

    def p(q: float) -> Any:
        return lambda a: percentile(list(a), q)

    def js(i: Interval) -> dict[str, Any]:
        return i.to_json()

    return {
        "requests": n,
        "errors": errors,
        "thumbs_up": up,
        "thumbs_down": down,
        "corrections": corrected,
        "error_rate": js(wilson(errors, n)),
        "thumbs_up_rate": js(wilson(up, up + down)),
        "negative_rate": js(wilson(down, n)),
        "correction_rate": js(wilson(corrected, n)),
        "latency_ms_p50": js(bootstrap(latencies, p(0.50), seed=seed, resamples=1000)),
        "latency_ms_p95": js(bootstrap(latencies, p(0.95), seed=seed, resamples=1000)),
        "cost_per_request": js(bootstrap(costs, lambda a: float(np.mean(a)), seed=seed, resamples=1000)),
    }


def decide(
    metric: str, control: dict[str, Any], candidate: dict[str, Any], *, stopped_reason: str | None = None
) -> dict[str, Any]:
    """`ship`, `keep running` (with the sample still needed) or `roll back`, and why."""
    x_a, n_a = _primary_counts(metric, control)
    x_b, n_b = _primary_counts(metric, candidate)
    test = two_proportion_z(x_a, n_a, x_b, n_b)
    test_json: dict[str, Any] = {"metric": metric, "method": "two-proportion z-test (pooled, two-sided)"}
    test_json.update({"control": [x_a, n_a], "candidate": [x_b, n_b]})
    if test is not None:
        test_json.update(
            diff=round(test.diff, 4), z=round(test.z, 4), p_value=round(test.p_value, 6),
            significant=test.p_value < ALPHA, alpha=ALPHA,
        )  # fmt: skip
    if stopped_reason:
        return {"decision": "roll back", "reason": f"stopped by a guardrail: {stopped_reason}", "test": test_json}
    better_sign = -1 if metric in LOWER_IS_BETTER else 1
    if test is not None and test.p_value < ALPHA:
        better = test.diff * better_sign > 0
        verdict = "ship" if better else "roll back"
        how = "better" if better else "worse"
        reason = f"candidate {how} on {metric}: {test.p_b:.3f} vs {test.p_a:.3f} (p = {test.p_value:.4f} < {ALPHA})"
        return {"decision": verdict, "reason": reason, "test": test_json}
    p_a = x_a / n_a if n_a else 0.5
    diff = abs(test.diff) if test is not None else 0.0
    effect = max(diff, MIN_DETECTABLE_EFFECT)
    p_b = p_a + effect if p_a + effect < 1 else p_a - effect
    needed = sample_size_two_proportions(p_a, min(max(p_b, 1e-6), 1 - 1e-6), alpha=ALPHA, power=POWER) or 0
    more = max(0, needed - min(n_a, n_b))
    unit = "rated requests" if metric == "thumbs_up_rate" else "requests"
    reason = (
        f"no significant difference on {metric} yet"
        + (f" (p = {test.p_value:.3f})" if test is not None else "")
        + f"; to detect a {effect:.3f} difference at power {POWER}: {needed} {unit} per variant, {more} more"
    )
    return {
        "decision": "keep running",
        "reason": reason,
        "test": test_json,
        "sample_needed": {"per_variant": needed, "more": more, "unit": unit, "effect": round(effect, 4)},
    }


def report(store: LogStore, experiment: Experiment, *, seed: int = 0) -> dict[str, Any]:
    """The report of `experiment` from the log store (JSON-able)."""
    rows = variant_rows(store, experiment.name, since=experiment.created_at)
    scores = _scores(store, experiment.name)
    by_variant: dict[str, list[dict[str, Any]]] = {v.name: [] for v in experiment.variants}
    for row in rows:
        by_variant.setdefault(row["variant"], []).append(row)
    variants: dict[str, Any] = {}
    for name, vrows in by_variant.items():
        m = _metrics(vrows, seed)
        try:
            config = {k: v for k, v in asdict(experiment.variant(name)).items() if v is not None and k != "name"}
        except Exception:  # noqa: BLE001 - a variant logged but no longer configured
            config = {}
        m["config"] = config
        m["online_scores"] = scores.get(name, {})
        variants[name] = m
    control = experiment.control.name
    stop = experiment.stop_reason if experiment.stopped_variant else None
    decisions = {}
    for v in experiment.variants[1:]:
        decisions[v.name] = decide(
            experiment.primary_metric, variants[control], variants[v.name],
            stopped_reason=stop if experiment.stopped_variant == v.name else None,
        )  # fmt: skip
    # The headline decision: the first candidate's (the usual two-arm experiment), or any roll back.
    first = next(iter(decisions.values()))
    headline = next((d for d in decisions.values() if d["decision"] == "roll back"), first)
    events = list_events(store, experiment.name)
    return {
        "experiment": experiment.name,
        "endpoint": experiment.endpoint,
        "status": experiment.status,
        "primary_metric": experiment.primary_metric,
        "control": control,
        "stopped_variant": experiment.stopped_variant,
        "stop_reason": experiment.stop_reason,
        "variants": variants,
        "comparisons": decisions,
        "decision": headline["decision"],
        "reason": headline["reason"],
        "test": headline["test"],
        "sample_needed": headline.get("sample_needed"),
        "events": [
            {"at": e["created_at"], "kind": e["kind"], "variant": e["variant"], "reason": e["reason"]} for e in events
        ],
    }
