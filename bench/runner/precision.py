"""When a cell has been repeated enough, and when its spread is too wide to trust."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bench import stats

Clock = Callable[[], float]


@dataclass(frozen=True)
class Precision:
    """When a cell has been repeated enough.

    Each cell repeats until the 95% confidence interval of its speedup is
    within ``target`` of it (relative half-width), but at least
    ``min_repeats`` and at most ``max_repeats`` times, and no longer than
    ``budget_s`` seconds of timed rounds per cell (a block of cells shares
    its cells' budgets). ``target`` 0 means exactly ``min_repeats``.
    """

    min_repeats: int
    max_repeats: int = 0
    target: float = 0.0
    budget_s: float = 0.0

    @property
    def adaptive(self) -> bool:
        return self.target > 0 and self.max_repeats > self.min_repeats

    @classmethod
    def fixed(cls, repeats: int) -> Precision:
        return cls(repeats, repeats)


class StoppingRule:
    """The adaptive rule, with the clock a parameter (tests use a fake one)."""

    def __init__(self, precision: Precision, cells: int = 1, clock: Clock = time.perf_counter):
        self.p = precision
        self.clock = clock
        self.end = clock() + precision.budget_s * max(1, cells)

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
    if precision.adaptive and cell_hw is not None and cell_hw > precision.target:
        why = "maximum repeats" if repeats >= precision.max_repeats else "time budget spent"
        reasons.append(f"95% CI ±{cell_hw:.1%} after {repeats} repeats, above the "
                       f"±{precision.target:.0%} target ({why})")
    if not precision.adaptive and rel >= stats.NOISY_REL_STD:
        # With fixed repeats, pyperf's rule; adaptive repeats already went on until
        # the spread no longer mattered (the interval above says when it still did).
        reasons.append(f"std dev {rel:.0%} of the mean")
    return "; ".join(reasons) or None

