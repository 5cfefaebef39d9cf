"""Which cells answer a question: the serial baseline, the best cell of a
strategy or a model, and how precise a run's speedups are."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypedDict

from bench import stats
from bench.fmt import fmt_speedup
from bench.kinds import pure_python, speedup_ceiling
from bench.results import Cell, Results


def serial_cell(results: Results, workload: str) -> Cell | None:
    """The workload's ok serial cell at its main size."""
    for c in results.cells_of(workload):
        if c.strategy == "serial" and c.ok:
            return c
    return None


def with_speedup_only(cells: Iterable[Cell]) -> list[Cell]:
    """The ok cells that carry a speedup."""
    return [c for c in cells if c.ok and c.speedup is not None]


def usable_cpus(results: Results) -> int:
    """The run's usable CPUs; 0 where the results do not say (a pytest-benchmark file)."""
    return int(results.machine.get("usable_cpus") or 0)


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
    """The most speedup the physics allows this cell (None: no such limit)."""
    return speedup_ceiling(cell.kind, cell.workers, usable)


def over_ceiling(cell: Cell, usable: int) -> bool:
    """Its point estimate beats what its CPUs can give: the machine's speed changed
    between its runs and the serial ones (or the serial run landed on a slow CPU)."""
    top = ceiling(cell, usable)
    return top is not None and cell.speedup is not None and cell.speedup > top


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
            and not over_ceiling(cell, usable))


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
    usable = usable_cpus(results)
    groups: dict[tuple[str, str], list[Cell]] = {}
    for c in results.main_cells:
        groups.setdefault((c.workload, c.label), []).append(c)
    out = {}
    for key, cells in groups.items():
        best = best_by_speedup(cells, usable)
        if best is not None:
            out[key] = best
    return out


def best_of_model(results: Results, workload: str, model: str) -> Cell | None:
    """The workload's best decisive cell of this model ("threads", "processes")."""
    return best_by_speedup((c for c in results.cells_of(workload) if c.model == model),
                           usable_cpus(results))


@dataclass(frozen=True)
class GeoSpan:
    """Decisive cells (one per workload) taken together: the geometric means of
    their speedups and of their intervals' ends, and the fewest pairs behind any."""

    cells: tuple[Cell, ...]

    def _geo(self, end: int | None) -> float:
        return stats.geometric_mean([c.speedup_value if end is None else
                                     (lower_bound(c) if end == 0 else upper_bound(c))
                                     for c in self.cells])

    @property
    def point(self) -> float:
        return self._geo(None)

    @property
    def low(self) -> float:
        return self._geo(0)

    @property
    def high(self) -> float:
        return self._geo(1)

    @property
    def n(self) -> int:
        return min(len(c.times_s) for c in self.cells)

    def text(self) -> str:
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
