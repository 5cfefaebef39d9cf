"""What a run's own record says about the machine's noise while it ran.

``bench.machine`` reads the machine (``OthersCpu`` measures what other programs took);
judging that reading is the analysis's, so a report reads it without loading the code
that collects it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gilbench.bench import stats
from gilbench.bench.results import Cell, Results

BUSY_OTHERS = 0.10  # other programs using this share of the machine's CPU time during a run


def others_check(fraction: float | None) -> dict[str, Any] | None:
    """The during-run check: what other programs took of the machine's CPUs."""
    if fraction is None:
        return None
    busy = fraction >= BUSY_OTHERS
    return {"check": "other programs' CPU use during the run",
            "value": f"{fraction:.1%} of the machine's CPU time", "ok": not busy,
            "advice": "other programs competed for the CPUs: close them and run again"
                      if busy else ""}


@dataclass(frozen=True)
class TwoModes:
    """A cell whose runs fell into two groups (``stats.second_mode``), relative to the
    serial runs they were paired with: its slower group's share of the runs and how much
    slower that group ran."""

    cell: Cell
    share: float
    slower: float


def two_modes(results: Results) -> list[TwoModes]:
    """The ok cells (the confirmation's runs where there is one) whose runs, each divided
    by the serial run of its round (so a drift both shared cancels), form two modes: a
    cell that lost a CPU, or the GIL's switch interval, for whole runs. Its median and
    interval still hold for the mixture the machine gave it; the report says so."""
    out = []
    for c in results.cells:
        conf = c.confirmation
        times, serial = ((conf.times_s, conf.serial_times_s) if conf is not None and conf.ok
                         else (c.times_s, c.serial_times_s))
        if not c.ok or c.strategy == "serial" or not times:
            continue
        rel = [t / s for t, s in zip(times, serial, strict=True)] if serial else list(times)
        found = stats.second_mode(rel)
        if found is not None:
            out.append(TwoModes(c, found.share, found.slower))
    return out


MIN_PAIRS_FOR_ORDER = 8  # fewer pairs than this say little about their order


@dataclass(frozen=True)
class RoundDependence:
    """Whether a group of cells' consecutive rounds were alike more (or less) than chance:
    Bartels' rank test of each cell's paired ratios in round order, combined over the
    cells (Stouffer). ``z`` below 0: neighbouring rounds alike (a slow phase that hit one
    side of several pairs); ``p`` two-sided."""

    group: str  # "one worker" or "several workers"
    cells: int
    z: float
    p: float

    @property
    def dependent(self) -> bool:
        return self.p < 0.01


def bartels_z(values: list[float]) -> float:
    """Bartels' rank version of von Neumann's ratio, standardised (z ~ N(0, 1) for
    independent values in random order; ties ranked by order of appearance)."""
    n = len(values)
    ranks = [0] * n
    for r, i in enumerate(sorted(range(n), key=values.__getitem__)):
        ranks[i] = r + 1
    mean = (n + 1) / 2
    rvn = (sum((ranks[i] - ranks[i + 1]) ** 2 for i in range(n - 1))
           / sum((r - mean) ** 2 for r in ranks))
    var = 4 * (n - 2) * (5 * n * n - 2 * n - 9) / (5 * n * (n + 1) * (n - 1) ** 2)
    return (rvn - 2) / var ** 0.5


def round_dependence(results: Results) -> list[RoundDependence]:
    """For the one-worker cells and for the cells of several workers apart (their serial
    baselines are made differently: ``bench.runner.placement``), whether their rounds
    were independent, from each ok cell's paired ratios (the confirmation's where there is
    one) with at least ``MIN_PAIRS_FOR_ORDER`` pairs."""
    import math

    groups: dict[str, list[float]] = {"one worker": [], "several workers": []}
    for c in results.cells:
        conf = c.confirmation
        times, serial = ((conf.times_s, conf.serial_times_s) if conf is not None and conf.ok
                         else (c.times_s, c.serial_times_s))
        if not c.ok or c.strategy == "serial" or not serial or len(times) < MIN_PAIRS_FOR_ORDER:
            continue
        ratios = [s / t for s, t in zip(serial, times, strict=True)]
        groups["one worker" if c.workers == 1 else "several workers"].append(bartels_z(ratios))
    out = []
    for name, zs in groups.items():
        if zs:
            z = sum(zs) / len(zs) ** 0.5
            out.append(RoundDependence(name, len(zs), z, math.erfc(abs(z) / 2 ** 0.5)))
    return out
