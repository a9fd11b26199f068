"""pass^k (tau-bench): the chance that k independent trials of a task all succeed, averaged over tasks.

With n trials of a task of which c succeeded, the unbiased estimate for one task is C(c, k) / C(n, k).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from math import comb

__all__ = ["pass_hat_k"]


def pass_hat_k(successes: Mapping[str, Iterable[bool]], k: int) -> float:
    """pass^k over tasks: ``successes`` maps a task id to its trials' outcomes (at least k each)."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    values = []
    for task_id, trials in successes.items():
        outcomes = list(trials)
        n, c = len(outcomes), sum(outcomes)
        if n < k:
            raise ValueError(f"task {task_id!r} has {n} trials, fewer than k={k}")
        values.append(comb(c, k) / comb(n, k))
    return sum(values) / len(values) if values else 0.0
