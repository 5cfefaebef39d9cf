"""Which cells answer a question: the serial baseline, the best cell of a
strategy or a model, and how precise a run's speedups are."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypedDict

from gilbench.bench import stats
from gilbench.bench.analysis.once import once
from gilbench.bench.fmt import fmt_s, fmt_speedup, fmt_x
from gilbench.bench.kinds import CEILING_SLACK, gil_bound, pure_python, speedup_ceiling
from gilbench.bench.results import Cell, Results, with_speedup


def serial_cell(results: Results, workload: str) -> Cell | None:
    """The workload's ok serial cell at its main size."""
    for c in results.cells_of(workload):
        if c.strategy == "serial" and c.ok:
            return c
    return None


def task_s(cell: Cell) -> float | None:
    """The serial time of one of this cell's tasks: the median of the serial runs paired
    with it (its own, for the serial cell) over its task count. None without them."""
    serial = cell.serial_times_s or (cell.times_s if cell.strategy == "serial" else ())
    if not serial or not cell.tasks:
        return None
    return stats.median(serial) / cell.tasks


def tasks_of_about(cells: Iterable[Cell | None]) -> str:
    """"for tasks of about 2.3 ms": the task size a claim from these cells (one workload
    and size) holds for; "" where no cell says."""
    found = [t for c in cells if c is not None and (t := task_s(c)) is not None]
    if not found:
        return ""
    return f"for tasks of about {fmt_s(stats.geometric_mean(found))}"


def with_speedup_only(cells: Iterable[Cell]) -> list[Cell]:
    """The ok cells that carry a speedup."""
    return [c for c in cells if c.ok and c.speedup is not None]


def gil_on(results: Results) -> bool:
    """Whether the run's threads ran with a GIL: False only for an interpreter whose GIL
    was off (a free-threaded build, or PYTHON_GIL=0) and stayed off in every cell whose
    workers are threads of gilbench's own process."""
    if results.machine.get("gil_enabled", True) is not False:
        return True
    return any(c.gil_enabled_in_workers for c in results.cells if c.model == "threads")


def pure_python_workloads(results: Results) -> list[str]:
    """The run's workloads of pure-Python work (``bench.kinds.pure_python``)."""
    return [w for w in results.workloads() if pure_python(results.cells_of(w)[0].kind)]


def ceiling(cell: Cell, usable: int) -> float | None:
    """The most speedup the physics allows this cell (None: no such limit): its
    workers and the usable CPUs, or 1x for threads on pure Python under a GIL."""
    return speedup_ceiling(cell.kind, cell.workers, usable,
                           gil_bound(cell.model, cell.gil_enabled_in_workers))


def over_ceiling(cell: Cell, usable: int) -> bool:
    """Its point estimate beats what its CPUs (or its GIL) can give, by more than the
    noise's slack (``bench.kinds.CEILING_SLACK``): the machine's speed changed between
    its runs and the serial ones (or the serial run landed on a slow CPU)."""
    top = ceiling(cell, usable)
    return (top is not None and cell.speedup is not None
            and cell.speedup > top * (1 + CEILING_SLACK))


def artefact(cell: Cell, usable: int) -> bool:
    """Its whole interval is above the physics' ceiling: a machine artefact."""
    top = ceiling(cell, usable)
    return top is not None and cell.speedup_ci95 is not None and cell.speedup_ci95[0] > top


def decisive(cell: Cell, usable: int) -> bool:
    """May this cell decide a verdict or be called best? Only an ok cell with a 95%
    interval and within the physics. A cell flagged noisy (its interval ended wider
    than the target) may: its interval is honest, only wide, so it decides only
    where even that wide interval separates (and the verdict says ⚠)."""
    return (cell.ok and cell.speedup is not None and cell.speedup_ci95 is not None
            and not over_ceiling(cell, usable) and not artefact(cell, usable))


def lower_bound(cell: Cell) -> float:
    assert cell.speedup_ci95 is not None
    return cell.speedup_ci95[0]


def upper_bound(cell: Cell) -> float:
    assert cell.speedup_ci95 is not None
    return cell.speedup_ci95[1]


def best_by_speedup(cells: Iterable[Cell], usable: int) -> Cell | None:
    """The decisive cell whose speedup is surely the highest: the highest lower end
    of its 95% interval (a lucky point estimate with a wide interval does not win;
    see docs/methodology.md). None when no cell may decide."""
    found = [c for c in cells if decisive(c, usable)]
    return max(found, key=lambda c: (lower_bound(c), c.speedup_value), default=None)


def best_cells(results: Results) -> dict[tuple[str, str], Cell]:
    """For each (workload, strategy label), its best decisive cell over worker counts."""
    usable = results.usable_cpus
    groups: dict[tuple[str, str], list[Cell]] = {}
    for c in results.main_cells:
        groups.setdefault((c.workload, c.label), []).append(c)
    out = {}
    for key, cells in groups.items():
        best = best_by_speedup(cells, usable)
        if best is not None:
            out[key] = best
    return out


def confirmed_view(cell: Cell) -> Cell | None:
    """The finalist as its confirmation measured it: the re-measurement's times, pairs,
    speedup, 95% interval and noise in place of the sweep's (None: not confirmed)."""
    conf = cell.confirmation
    if conf is None or not conf.ok:
        return None
    view = dataclasses.replace(
        cell, times_s=conf.times_s, serial_times_s=conf.serial_times_s,
        median_s=stats.median(conf.times_s), rel_std=stats.rel_std(conf.times_s),
        noisy=conf.noise is not None, noise=conf.noise, left_early=None, pair_cpus=(),
        reached_target=conf.reached_target)
    return with_speedup(view, conf.serial_times_s)


def at_confidence(cell: Cell, confidence: float) -> tuple[float, float] | None:
    """The cell's paired interval at another confidence (None: too few pairs for it, or
    no pairs)."""
    if not cell.serial_times_s:
        return None
    return stats.speedup_ci(cell.serial_times_s, cell.times_s, paired=True,
                            confidence=confidence, interpolated=not cell.stopped_on_its_data)


@dataclass(frozen=True)
class Headline:
    """A model's best cell of one workload, with an interval honest after the choice.

    ``confirmed``: the cell's confirmation (fresh runs after the sweep chose it) gives
    the figure and the interval, which the choice did not see. Otherwise (a file from
    before confirmation, a pytest session, a failed re-measurement) the choice is paid
    for by simultaneous intervals: each of the ``family`` candidates at 1 - 0.05/family
    (Bonferroni), so that all hold together at 95% and so does the chosen one's.
    ``cell`` carries the headline's figure and that interval; ``interval(share)`` takes
    it wider still where a later choice or product spends ``share`` such intervals."""

    cell: Cell
    confirmed: bool
    family: int = 1

    def interval(self, share: int = 1) -> tuple[float, float] | None:
        if self.family * share == 1:
            return self.cell.speedup_ci95
        return at_confidence(self.cell, 1 - (1 - stats.CONFIDENCE) / (self.family * share))

    @property
    def how(self) -> str:
        return ("confirmed by fresh runs" if self.confirmed else
                f"not confirmed: simultaneous over {self.family} cells")


def headline(cells: Iterable[Cell], usable: int) -> Headline | None:
    """The headline of these cells (one model of one workload and size): its confirmed
    finalist, or else the simultaneous choice (``Headline``); None when no cell may
    decide."""
    cells = list(cells)
    views = [v for v in map(confirmed_view, cells) if v is not None]
    if views:
        best = best_by_speedup(views, usable)
        return None if best is None else Headline(best, True, len(views))
    found = [c for c in cells if decisive(c, usable)]
    if len(found) <= 1:
        return Headline(found[0], False, 1) if found else None
    level = 1 - (1 - stats.CONFIDENCE) / len(found)
    wide = [dataclasses.replace(c, speedup_ci95=ci) for c in found
            if (ci := at_confidence(c, level)) is not None]
    best = max(wide, key=lambda c: (lower_bound(c), c.speedup_value), default=None)
    return None if best is None else Headline(best, False, len(found))


def headline_of(results: Results, workload: str, model: str) -> Headline | None:
    """The workload's headline cell of this model ("threads", "processes"), computed once
    per run (``bench.analysis.once``)."""
    return once(results, ("headline", workload, model), lambda: headline(
        (c for c in results.cells_of(workload) if c.model == model), results.usable_cpus))


def best_of_model(results: Results, workload: str, model: str) -> Cell | None:
    """The workload's headline cell of this model, its figure and interval honest after
    the choice (``headline``)."""
    found = headline_of(results, workload, model)
    return None if found is None else found.cell


def reach(cells: Iterable[Cell], chosen: Cell, usable: int) -> float:
    """The highest a cell of the chosen one's model among ``cells`` (one workload and
    size) could still be: the highest upper end of the decisive ones' 95% intervals,
    the chosen one's own headline interval included. A verdict against this model must
    clear it, not only the chosen cell."""
    others = [upper_bound(c) for c in cells if c.model == chosen.model
              and c.key != chosen.key and decisive(c, usable)]
    return max([upper_bound(chosen), *others])


@dataclass(frozen=True)
class GeoSpan:
    """Decisive cells (one per workload) taken together: the geometric means of their
    speedups and of their intervals' ends, and the fewest pairs behind any.

    The range holds at 95% only if every factor's interval holds at once, so each is
    taken at 1 - 0.05/(cells x ``share`` x its family) from its pairs (Bonferroni;
    ``share``: how many such spans a later choice picks among; ``families``: for each
    factor, how many cells its headline was chosen among without a confirmation,
    ``Headline.family``; 1 for a confirmed one). A factor whose pairs are too few for that
    level leaves the range unbounded (0 to infinity: it decides nothing)."""

    cells: tuple[Cell, ...]
    share: int = 1
    families: tuple[int, ...] = ()  # empty: each factor 1

    @functools.cached_property
    def _ends(self) -> list[tuple[float, float] | None]:
        """Each factor's interval at the joint level (computed once: ranking reads it)."""
        families = self.families or (1,) * len(self.cells)
        spent = max(1, len(self.cells)) * self.share
        return [at_confidence(c, 1 - (1 - stats.CONFIDENCE) / (spent * f))
                for c, f in zip(self.cells, families, strict=True)]

    @property
    def bounded(self) -> bool:
        return all(e is not None for e in self._ends)

    @property
    def point(self) -> float:
        return stats.geometric_mean([c.speedup_value for c in self.cells])

    @property
    def low(self) -> float:
        ends = self._ends
        if any(e is None for e in ends):
            return 0.0
        return stats.geometric_mean([e[0] for e in ends if e is not None])

    @property
    def high(self) -> float:
        ends = self._ends
        if any(e is None for e in ends):
            return math.inf
        return stats.geometric_mean([e[1] for e in ends if e is not None])

    @property
    def n(self) -> int:
        return min(len(c.times_s) for c in self.cells)

    def text(self) -> str:
        if not self.bounded:
            return (f"{fmt_x(self.point)} (too few pairs for a joint interval) "
                    f"n={self.n}")
        return fmt_speedup(self.point, (self.low, self.high), self.n)


class PrecisionSummary(TypedDict):
    """How tight a run's speedups are, over its ok non-serial cells with an interval."""

    cells: int
    target: float | None
    median_half_width: float | None
    within_target: int | None
    within_10: int
    noisy: int


def precision(results: Results) -> PrecisionSummary:
    hws = [c.ci_half_width for c in results.cells if c.ok and c.strategy != "serial"
           and c.ci_half_width is not None]
    target = (results.plan.target_ci or None) if results.plan else None
    return {"cells": len(hws), "target": target,
            "median_half_width": stats.median(hws) if hws else None,
            "within_target": sum(h <= target for h in hws) if target else None,
            "within_10": sum(h <= 0.10 for h in hws),
            "noisy": sum(c.noisy for c in results.cells)}


def cpu_speeds(results: Results) -> dict[int, tuple[float, int]]:
    """How slowly each CPU ran the serial kernel during the run, from the pinned rounds
    (``Cell.pair_cpus``): per CPU, the geometric mean over cells of (the median serial
    run on that CPU ÷ the cell's median serial run), and the serial runs behind it. Above
    1: that CPU was slower. Empty where placement was free."""
    logs: dict[int, list[float]] = {}
    runs: dict[int, int] = {}
    for c in results.cells:
        if not c.ok or not c.pair_cpus or len(c.pair_cpus) != len(c.serial_times_s):
            continue
        whole = stats.median(c.serial_times_s)
        for cpu in set(c.pair_cpus):
            mine = [s for s, k in zip(c.serial_times_s, c.pair_cpus, strict=True) if k == cpu]
            runs[cpu] = runs.get(cpu, 0) + len(mine)
            if len(mine) >= 2 and whole > 0:
                logs.setdefault(cpu, []).append(math.log(stats.median(mine) / whole))
    return {cpu: (math.exp(sum(v) / len(v)), runs[cpu]) for cpu, v in sorted(logs.items())}
