"""Statistics: pure functions of numbers (no I/O), tested against hand-computed values.

The headline of a cell is its median time; a speedup is the ratio of the
serial median to the cell's median, with a 95% confidence interval from a
bootstrap that resamples both sets of repeats independently.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

NOISY_REL_STD = 0.10  # pyperf's rule: std dev >= 10% of the mean is not trustworthy
BOOTSTRAP_RESAMPLES = 2000


# median, percentile and rel_std use the standard library only, so that the
# harness also runs in an interpreter without numpy (``gilbench run --python``);
# the bootstrap needs numpy and runs where the report is made.


def median(samples: Sequence[float]) -> float:
    if len(samples) == 0:
        raise ValueError("median of no samples")
    return float(statistics.median(float(x) for x in samples))


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear interpolation between order statistics
    (numpy's default method)."""
    if len(samples) == 0:
        raise ValueError("percentile of no samples")
    s = sorted(float(x) for x in samples)
    k = (len(s) - 1) * q / 100
    lo = math.floor(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def rel_std(samples: Sequence[float]) -> float:
    """Sample standard deviation relative to the mean (0 for one sample)."""
    if len(samples) < 2:
        return 0.0
    mean = statistics.fmean(samples)
    return 0.0 if mean == 0 else statistics.stdev(samples) / mean


def speedup(serial_s: Sequence[float], cell_s: Sequence[float]) -> float:
    """Median serial time over median cell time: > 1 means the cell is faster."""
    return median(serial_s) / median(cell_s)


def efficiency(speedup_x: float, workers: int) -> float:
    """Speedup per worker: 1.0 is perfect linear scaling."""
    return speedup_x / workers


def speedup_ci(serial_s: Sequence[float], cell_s: Sequence[float], *, confidence: float = 0.95,
               resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap interval of the ratio of medians.

    Both sets of repeats are resampled with replacement, independently, and
    the interval is widened, if needed, to contain the point estimate (with
    very few repeats the bootstrap distribution of a median is lumpy).
    """
    import numpy as np

    a = np.asarray(serial_s, dtype=float)
    b = np.asarray(cell_s, dtype=float)
    if a.size == 0 or b.size == 0:
        raise ValueError("speedup_ci needs samples on both sides")
    rng = np.random.default_rng(seed)
    ra = np.median(rng.choice(a, size=(resamples, a.size), replace=True), axis=1)
    rb = np.median(rng.choice(b, size=(resamples, b.size), replace=True), axis=1)
    ratios = ra / rb
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.percentile(ratios, [tail, 100 - tail])
    point = speedup(a, b)
    return float(min(lo, point)), float(max(hi, point))


def ci_half_width(point: float, ci: tuple[float, float]) -> float:
    """Half the interval's width relative to the point estimate."""
    return (ci[1] - ci[0]) / 2 / point if point else float("inf")


def geometric_mean(values: Sequence[float]) -> float:
    if len(values) == 0 or any(v <= 0 for v in values):
        raise ValueError("geometric mean needs positive values")
    return math.exp(statistics.fmean(math.log(v) for v in values))
