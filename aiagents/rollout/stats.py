"""The statistics of an A/B report: Wilson intervals, bootstrap intervals, a two-proportion z-test, power.

Hand-written on `math` (and numpy for the bootstrap) rather than scipy: scipy is not a dependency, and each
formula is a few lines that the tests check against hand-computed values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Interval",
    "ZTest",
    "wilson",
    "bootstrap",
    "percentile",
    "two_proportion_z",
    "normal_cdf",
    "normal_ppf",
    "sample_size_two_proportions",
]


@dataclass(kw_only=True)
class Interval:
    """A point estimate with its confidence interval."""

    value: float | None
    """The estimate (None without data)."""
    low: float | None
    high: float | None
    n: int
    """Observations behind it."""

    def to_json(self, digits: int = 4) -> dict[str, float | int | None]:
        r = lambda x: None if x is None else round(x, digits)  # noqa: E731
        return {"value": r(self.value), "low": r(self.low), "high": r(self.high), "n": self.n}


def normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def normal_ppf(p: float) -> float:
    """Inverse of the standard normal CDF (bisection on `normal_cdf`; 1e-10 precise)."""
    if not 0 < p < 1:
        raise ValueError(f"p must be in (0, 1), got {p}")
    lo, hi = -12.0, 12.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if normal_cdf(mid) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def wilson(successes: int, n: int, *, confidence: float = 0.95) -> Interval:
    """The Wilson score interval of a proportion (good at small n and near 0 or 1, unlike the Wald interval)."""
    if n <= 0:
        return Interval(value=None, low=None, high=None, n=0)
    z = normal_ppf(1 - (1 - confidence) / 2)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Interval(value=p, low=max(0.0, centre - half), high=min(1.0, centre + half), n=n)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in [0, 1]), as the log store computes it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))
    return float(ordered[rank])


def bootstrap(
    values: Sequence[float],
    stat: Callable[[np.ndarray], float],
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> Interval:
    """Percentile-bootstrap interval of `stat` (seeded: the same data gives the same interval)."""
    if not values:
        return Interval(value=None, low=None, high=None, n=0)
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(data), size=(resamples, len(data)))
    stats = np.array([stat(data[row]) for row in idx])
    alpha = (1 - confidence) / 2
    return Interval(
        value=float(stat(data)),
        low=float(np.quantile(stats, alpha)),
        high=float(np.quantile(stats, 1 - alpha)),
        n=len(data),
    )


@dataclass(kw_only=True)
class ZTest:
    """A two-sided two-proportion z-test (pooled standard error) of b against a."""

    p_a: float
    p_b: float
    diff: float
    """p_b - p_a."""
    z: float
    p_value: float


def two_proportion_z(x_a: int, n_a: int, x_b: int, n_b: int) -> ZTest | None:
    """None when a group is empty or the pooled rate is 0 or 1 (no variance: nothing to test)."""
    if n_a <= 0 or n_b <= 0:
        return None
    p_a, p_b = x_a / n_a, x_b / n_b
    pooled = (x_a + x_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return None
    z = (p_b - p_a) / se
    return ZTest(p_a=p_a, p_b=p_b, diff=p_b - p_a, z=z, p_value=2 * (1 - normal_cdf(abs(z))))


def sample_size_two_proportions(p_a: float, p_b: float, *, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """Per-group sample size to detect p_a vs p_b with a two-sided test (normal approximation, Fleiss)."""
    if p_a == p_b:
        return None
    z_a = normal_ppf(1 - alpha / 2)
    z_b = normal_ppf(power)
    p_bar = (p_a + p_b) / 2
    num = z_a * math.sqrt(2 * p_bar * (1 - p_bar)) + z_b * math.sqrt(p_a * (1 - p_a) + p_b * (1 - p_b))
    return math.ceil(num * num / (p_a - p_b) ** 2)
