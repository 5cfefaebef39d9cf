"""When a cell has been repeated enough, and when its spread is too wide to trust."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from gilbench.bench import stats
from gilbench.bench.plan import Precision

Clock = Callable[[], float]
# A cell's point estimate, its interval (None below the pairs it needs) and the
# interval's relative half-width (None with no interval).
Interval = tuple[float, tuple[float, float] | None, float | None]


# A cell leaves the rounds early only when even its 99% interval (the order statistics
# themselves, not interpolated) is within the target: stopping on the 95% interval
# itself, chosen at the moment it happens to look narrow, lowered the coverage of that
# 95% interval to 0.93 in the simulation (tests/coverage.py); stopping on the 99% one
# keeps it at 0.95 or more. A cell that left early so keeps the order statistics' 95%
# interval, whose margin above 95% pays for the data-dependent stop (the interpolated
# one, exact at a fixed number of pairs, covered 0.92 after it); a cell whose rounds ran
# to their end keeps the interpolated one (``Cell.reached_target``).
STOP_CONFIDENCE = 0.99


def cell_interval(serial_s: Sequence[float], times_s: Sequence[float],
                  confidence: float = stats.CONFIDENCE, *, interpolated: bool = True
                  ) -> Interval:
    """A cell's point estimate, its interval (None below the pairs it needs) and
    the interval's relative half-width: of the paired speedup when there are
    serial runs, else of the median time. What the stopping rule looks at (at
    ``STOP_CONFIDENCE``, not interpolated) and what the cell records (at 95%) are this
    one computation."""
    if serial_s:
        point = stats.speedup(serial_s, times_s, paired=True)
        ci = stats.speedup_ci(serial_s, times_s, paired=True, confidence=confidence,
                              interpolated=interpolated)
    else:
        point = stats.median(times_s)
        ci = stats.median_ci(times_s, confidence=confidence, interpolated=interpolated)
    return point, ci, stats.relative_half_width(point, ci)


def stopping_half_width(serial_s: Sequence[float], times_s: Sequence[float]) -> float | None:
    """What ``StoppingRule.converged`` compares with the target."""
    return cell_interval(serial_s, times_s, STOP_CONFIDENCE, interpolated=False)[2]


class StoppingRule:
    """The adaptive rule, with the clock a parameter (tests use a fake one)."""

    def __init__(self, precision: Precision, cells: int = 1, clock: Clock = time.perf_counter):
        self.p = precision
        self.clock = clock
        self.end = clock() + precision.budget_s * max(1, cells)

    def early(self, repeats: int, half_width: float | None) -> bool:
        """Done before its end because its interval reached the target (what makes a
        cell keep the order statistics' interval: ``Cell.reached_target``)."""
        return (self.p.adaptive and self.p.min_repeats <= repeats < self.p.max_repeats
                and half_width is not None and half_width <= self.p.target)

    def converged(self, repeats: int, half_width: float | None) -> bool:
        """This cell is done: enough repeats, and (adaptive) a tight enough interval."""
        if repeats < self.p.min_repeats:
            return False
        if not self.p.adaptive or repeats >= self.p.max_repeats:
            return True
        return half_width is not None and half_width <= self.p.target

    def out_of_time(self, repeats: int) -> bool:
        """The block must stop even if some cell has not converged."""
        return repeats >= self.p.min_repeats and (
            repeats >= max(self.p.max_repeats, self.p.min_repeats) or self.clock() >= self.end)


def noise_reason(cell_hw: float | None, rel: float, repeats: int,
                 precision: Precision) -> str | None:
    """Why a cell's spread is too wide to trust, or None."""
    reasons = []
    if cell_hw is None and precision.adaptive:
        reasons.append(f"only {repeats} pairs: too few for a 95% interval (6 needed)")
    if precision.adaptive and cell_hw is not None and cell_hw > precision.target:
        why = "maximum repeats" if repeats >= precision.max_repeats else "time budget spent"
        reasons.append(f"95% CI ±{cell_hw:.1%} after {repeats} repeats, above the "
                       f"±{precision.target:.0%} target ({why})")
    if not precision.adaptive and rel >= stats.NOISY_REL_STD:
        # With fixed repeats, pyperf's rule; adaptive repeats already went on until
        # the spread no longer mattered (the interval above says when it still did).
        reasons.append(f"std dev {rel:.0%} of the mean")
    return "; ".join(reasons) or None

