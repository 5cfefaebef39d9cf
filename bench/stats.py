"""Statistics: pure functions of numbers (no I/O), tested against hand-computed values.

The headline of a cell is its median time. Its speedup is the median of the
ratios of its runs to the serial runs paired with them (measured in the same
rounds): ``median(serial_i / cell_i)``. Its 95% interval is distribution-free:
the k-th smallest to the k-th largest of those ratios, with k the largest rank
whose coverage of the population median is at least 95% for n independent
pairs, ``1 - 2 P(Binomial(n, 1/2) <= k - 1)``. Such an interval exists from
n = 6 on (at n = 3 the range of the data covers only 75%); below that there is
no honest 95% interval and the functions say so with ``None``. The coverage of
the whole procedure, early stopping included, is measured by
``tests/test_stats.py::test_coverage_of_the_stopping_rule`` and published in
docs/methodology.md.

Standard library only, so that the harness also runs in an interpreter without
numpy (``gilbench run --python``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import NamedTuple

NOISY_REL_STD = 0.10  # pyperf's rule: std dev >= 10% of the mean is not trustworthy
CONFIDENCE = 0.95


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


def paired_ratios(serial_s: Sequence[float], cell_s: Sequence[float]) -> list[float]:
    """``serial_s[i] / cell_s[i]``: each cell run against the serial run of its round."""
    if len(serial_s) != len(cell_s):
        raise ValueError("paired samples must be as many on both sides")
    if len(cell_s) == 0:
        raise ValueError("no paired samples")
    return [float(a) / float(b) for a, b in zip(serial_s, cell_s, strict=True)]


def speedup(serial_s: Sequence[float], cell_s: Sequence[float], *, paired: bool = False
            ) -> float:
    """> 1 means the cell is faster. Paired: the median of the per-round ratios
    (the quantity ``speedup_ci`` covers); unpaired: median serial over median cell."""
    if paired:
        return median(paired_ratios(serial_s, cell_s))
    return median(serial_s) / median(cell_s)


def efficiency(speedup_x: float, workers: int) -> float:
    """Speedup per worker: 1.0 is perfect linear scaling."""
    return speedup_x / workers


def median_rank(n: int, confidence: float = CONFIDENCE) -> int | None:
    """The largest k for which [k-th smallest, k-th largest] of n independent
    values covers their distribution's median with at least ``confidence``;
    None when even the full range does not (n < 6 at 95%)."""
    best = None
    below = 0.0  # P(Binomial(n, 1/2) <= k - 1)
    for k in range(1, n // 2 + 1):
        below += math.comb(n, k - 1) / 2 ** n
        if 1 - 2 * below < confidence:
            break
        best = k
    return best


def median_coverage(n: int, k: int) -> float:
    """The exact coverage of [k-th smallest, k-th largest] of n values."""
    return 1 - 2 * sum(math.comb(n, i) for i in range(k)) / 2 ** n


def median_interval(values: Sequence[float], confidence: float = CONFIDENCE, *,
                    interpolated: bool = True) -> tuple[float, float] | None:
    """Distribution-free interval of the median at ``confidence``: the order statistics
    interpolated as Hettmansperger and Sheather (1986) do; None when there are too few
    values for the confidence asked (the full range covers 1 - 2 / 2**n).
    ``interpolated=False``: the k-th order statistics themselves, at or above the level
    (what a stopping rule looks at, and what a run that stopped on its data keeps).

    [k-th smallest, k-th largest] covers the median with an exact binomial probability
    that jumps with k (at n = 8: 0.992 with k = 1, 0.930 with k = 2); the interpolated ends
    lie between the k-th and the (k+1)-th order statistics, where the coverage crosses
    ``confidence``, so the interval is at its stated level rather than above it (exactly
    so for symmetric distributions, closely for the skewed and heavy-tailed ones
    ``tests/coverage.py`` simulates)."""
    n = len(values)
    k = median_rank(n, confidence)
    if k is None:
        return None
    s = sorted(float(x) for x in values)
    lo, hi = s[k - 1], s[n - k]
    if not interpolated or 2 * (k + 1) > n + 1:  # no narrower pair to interpolate toward
        return lo, hi
    wide, narrow = median_coverage(n, k), median_coverage(n, k + 1)
    share = (wide - confidence) / (wide - narrow)
    lam = (n - k) * share / (k + (n - 2 * k) * share)
    return (1 - lam) * lo + lam * s[k], (1 - lam) * hi + lam * s[n - k - 1]


def speedup_ci(serial_s: Sequence[float], cell_s: Sequence[float], *, paired: bool = False,
               confidence: float = CONFIDENCE, interpolated: bool = True
               ) -> tuple[float, float] | None:
    """The interval of ``speedup``; None when the samples cannot carry one.

    Paired: the interval of the median per-round ratio (``median_interval``, at
    least 6 pairs at 95%; ``interpolated`` passed on). Unpaired (two independent sets of runs): the
    intervals of both medians at ``(1 + confidence) / 2`` each, divided
    crosswise; both hold together with probability at least ``confidence``
    (Bonferroni), so the ratio's interval does too (at least 7 runs a side at
    95%).
    """
    if len(serial_s) == 0 or len(cell_s) == 0:
        raise ValueError("speedup_ci needs samples on both sides")
    if paired:
        return median_interval(paired_ratios(serial_s, cell_s), confidence,
                               interpolated=interpolated)
    each = (1 + confidence) / 2
    a = median_interval(serial_s, each, interpolated=interpolated)
    b = median_interval(cell_s, each, interpolated=interpolated)
    if a is None or b is None:
        return None
    return a[0] / b[1], a[1] / b[0]


def quantile_interval(values: Sequence[float], q: float, confidence: float = CONFIDENCE
                      ) -> tuple[float, float] | None:
    """Distribution-free interval of the q-quantile (0 < q < 1): the l-th to the u-th
    smallest of n independent values, l and u from Binomial(n, q) so that each tail
    misses at most (1 - confidence) / 2. None when n is too small for it (a p99 needs
    about 370 values for a 95% interval with an upper end; ``quantile_bounds`` gives the
    lower end alone)."""
    lo, hi = quantile_bounds(values, q, confidence)
    return None if lo is None or hi is None else (lo, hi)


def quantile_bounds(values: Sequence[float], q: float, confidence: float = CONFIDENCE
                    ) -> tuple[float | None, float | None]:
    """``quantile_interval``'s two ends on their own, each missing its tail with at most
    (1 - confidence) / 2: the lower end exists from one value on, the upper only once
    the largest value is unlikely enough to be below the quantile (None: not yet)."""
    n = len(values)
    if n == 0 or not 0 < q < 1:
        return None, None
    tail = (1 - confidence) / 2

    def pmf(i: int) -> float:
        return math.exp(math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
                        + i * math.log(q) + (n - i) * math.log1p(-q))

    cdf, lo, hi = 0.0, None, None  # cdf: P(B <= i)
    for i in range(n + 1):
        cdf += pmf(i)
        if cdf <= tail:
            lo = i + 1  # P(B <= lo - 1) <= tail: X_(lo) is below the quantile often enough
        if hi is None and cdf >= 1 - tail:
            hi = i + 1  # P(B <= hi - 1) >= 1 - tail
            break
    s = sorted(float(x) for x in values)
    return (s[lo - 1] if lo is not None else None,
            s[hi - 1] if hi is not None and hi <= n else None)


def median_ci(samples: Sequence[float], *, confidence: float = CONFIDENCE,
              interpolated: bool = True) -> tuple[float, float] | None:
    """Interval of the median itself (the serial cell's precision)."""
    return median_interval(samples, confidence, interpolated=interpolated)


def relative_half_width(point: float, ci: tuple[float, float] | None) -> float | None:
    """``ci_half_width``, or None where there is no interval."""
    return None if ci is None else ci_half_width(point, ci)


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


# A second mode: at least this share of the runs in the slower group, and the groups
# apart by more than ``mode_threshold(n)`` in Ashman's D (the difference of the groups'
# mean log times over their pooled standard deviation), from ``MODE_MIN_RUNS`` runs on.
MODE_SHARE = 0.15
MODE_MIN_RUNS = 20


def mode_threshold(n: int) -> float:
    """The D a split must exceed at n runs: above the 99th percentile of the best split
    of one-mode noise (normal, log-normal, heavy-tailed, skewed and uniform shapes
    simulated: 6.4 at n = 20, 4.8 at 40, 4.3 at 80), so a single mode is seldom called
    two."""
    return 4.2 + 46 / n


class Mode(NamedTuple):
    share: float  # of the runs in the slow mode
    slower: float  # its median ÷ the fast mode's
    cut: float  # the time that separates them (the fast mode's slowest run)


def second_mode(times: Sequence[float]) -> Mode | None:
    """A slow second mode among these run times: its share of the runs, how much slower
    its median is than the fast mode's (a ratio) and the time that separates the two;
    None when the runs form one mode or are too few to tell (``MODE_MIN_RUNS``).

    The log times are split where the two groups are best separated (the split of
    one-dimensional 2-means, which Otsu's threshold also is); it is a second mode when
    the slower group holds at least ``MODE_SHARE`` of the runs and the groups lie
    ``mode_threshold`` pooled standard deviations apart: what a process losing a CPU for
    whole runs looks like, and a gap noise of one shape seldom opens."""
    n = len(times)
    if n < MODE_MIN_RUNS or min(times) <= 0:
        return None
    logs = sorted(math.log(t) for t in times)
    least = max(2, math.ceil(MODE_SHARE * n))
    total = sum(logs)
    best, cut, below = -1.0, 0, sum(logs[:least - 1])
    for i in range(least, n - least + 1):  # fast: logs[:i], slow: logs[i:]
        below += logs[i - 1]
        gap = below / i - (total - below) / (n - i)
        if i * (n - i) * gap * gap > best:
            best, cut = i * (n - i) * gap * gap, i
    fast, slow = logs[:cut], logs[cut:]
    pooled = math.sqrt((statistics.pvariance(fast) + statistics.pvariance(slow)) / 2)
    apart = statistics.fmean(slow) - statistics.fmean(fast)
    if apart <= 0 or (pooled > 0 and apart / pooled <= mode_threshold(n)):
        return None
    return Mode(len(slow) / n, math.exp(statistics.median(slow) - statistics.median(fast)),
                math.exp(fast[-1]))


def more_in_slow_mode(ours: Sequence[float], theirs: Sequence[float], mode: Mode) -> bool:
    """Whether ``ours`` put surely more of its runs beyond ``mode.cut`` than ``theirs``
    did, by at least ``MODE_SHARE`` (two proportions, one-sided z at 0.5%): a second mode
    of its own, not the machine's, which would slow both sides alike."""
    a = sum(t > mode.cut for t in ours) / len(ours)
    b = sum(t > mode.cut for t in theirs) / len(theirs)
    pooled = (a * len(ours) + b * len(theirs)) / (len(ours) + len(theirs))
    se = math.sqrt(pooled * (1 - pooled) * (1 / len(ours) + 1 / len(theirs)))
    return a - b >= MODE_SHARE and se > 0 and (a - b) / se > 2.576
