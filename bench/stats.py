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


def speedup_ci(serial_s: Sequence[float], cell_s: Sequence[float], *, paired: bool = False,
               confidence: float = 0.95, resamples: int = BOOTSTRAP_RESAMPLES,
               seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap interval of the ratio of medians.

    Unpaired, both sets of repeats are resampled with replacement,
    independently. Paired (``serial_s[i]`` was measured next to
    ``cell_s[i]``), the same indices are drawn for both, so a drift that
    slows both runs of a pair (turbo, heat, a neighbour) cancels in the
    ratio instead of widening the interval. The interval is widened, if
    needed, to contain the point estimate (with very few repeats the
    bootstrap distribution of a median is lumpy).
    """
    if len(serial_s) == 0 or len(cell_s) == 0:
        raise ValueError("speedup_ci needs samples on both sides")
    if paired and len(serial_s) != len(cell_s):
        raise ValueError("paired samples must be as many on both sides")
    point = speedup(serial_s, cell_s)
    try:
        import numpy as np
    except ImportError:  # an interpreter without numpy (gilbench run --python)
        ratios = _bootstrap_ratios_pure(serial_s, cell_s, paired, min(resamples, 400), seed)
        tail = (1 - confidence) / 2 * 100
        lo, hi = percentile(ratios, tail), percentile(ratios, 100 - tail)
    else:
        a = np.asarray(serial_s, dtype=float)
        b = np.asarray(cell_s, dtype=float)
        rng = np.random.default_rng(seed)
        ia = rng.integers(0, a.size, size=(resamples, a.size))
        ib = ia if paired else rng.integers(0, b.size, size=(resamples, b.size))
        ratios = np.median(a[ia], axis=1) / np.median(b[ib], axis=1)
        tail = (1 - confidence) / 2 * 100
        lo, hi = np.percentile(ratios, [tail, 100 - tail])
    return float(min(lo, point)), float(max(hi, point))


def _bootstrap_ratios_pure(a: Sequence[float], b: Sequence[float], paired: bool,
                           resamples: int, seed: int) -> list[float]:
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(resamples):
        ia = [rng.randrange(len(a)) for _ in a]
        ib = ia if paired else [rng.randrange(len(b)) for _ in b]
        out.append(statistics.median(a[i] for i in ia) / statistics.median(b[i] for i in ib))
    return out


def median_ci(samples: Sequence[float], *, confidence: float = 0.95,
              resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """Bootstrap interval of the median itself (the serial cell's precision)."""
    return speedup_ci(samples, [1.0], confidence=confidence, resamples=resamples, seed=seed)


def ci_half_width(point: float, ci: tuple[float, float]) -> float:
    """Half the interval's width relative to the point estimate."""
    return (ci[1] - ci[0]) / 2 / point if point else float("inf")


def geometric_mean(values: Sequence[float]) -> float:
    if len(values) == 0 or any(v <= 0 for v in values):
        raise ValueError("geometric mean needs positive values")
    return math.exp(statistics.fmean(math.log(v) for v in values))


# ------------------------------------------------------------ scaling laws
# A curve is [(workers, speedup), ...]. With p processors, Amdahl's law
# predicts S(p) = 1 / (f + (1 - f) / p) for a serial fraction f.


def karp_flatt(speedup_x: float, p: int) -> float:
    """The experimentally determined serial fraction (Karp & Flatt, 1990):
    e = (1/S - 1/p) / (1 - 1/p). 0 is perfect scaling, 1 no gain at all;
    above 1 the work got slower than serial. Needs p > 1."""
    if p <= 1:
        raise ValueError("Karp-Flatt needs more than one processor")
    if speedup_x <= 0:
        raise ValueError("speedup must be positive")
    return (1 / speedup_x - 1 / p) / (1 - 1 / p)


def amdahl_speedup(f: float, p: float) -> float:
    return 1 / (f + (1 - f) / p)


def amdahl_fit(curve: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares serial fraction f of Amdahl's law over a curve.

    1/S - 1/p = f (1 - 1/p) is linear in f, so f = sum(x y) / sum(x x) with
    x = 1 - 1/p and y = 1/S - 1/p; points at p = 1 carry no information.
    Clipped to [0, 1]; None when no point has p > 1.
    """
    xs = [(1 - 1 / p, 1 / s - 1 / p) for p, s in curve if p > 1 and s > 0]
    if not xs:
        return None
    f = sum(x * y for x, y in xs) / sum(x * x for x, _ in xs)
    return min(1.0, max(0.0, f))


def stops_paying(curve: Sequence[tuple[int, float]], min_gain: float = 0.05) -> int | None:
    """The worker count past which more workers stop paying: the last count
    whose speedup beats every smaller count's by more than ``min_gain``
    (5%: within measurement noise otherwise). None when even the first step
    gained nothing (the curve never pays)."""
    pts = sorted(curve)
    if not pts:
        return None
    best_p, best = pts[0]
    paid = False
    for p, s in pts[1:]:
        if s > best * (1 + min_gain):
            best_p, best, paid = p, s, True
    return best_p if paid else None
