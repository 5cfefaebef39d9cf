"""Which cells answer a question: the serial baseline, the best cell of a
strategy or a model, and how precise a run's speedups are."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypedDict

from bench import stats
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


def best_cells(results: Results) -> dict[tuple[str, str], Cell]:
    """For each (workload, strategy label), its ok cell with the highest speedup."""
    best: dict[tuple[str, str], Cell] = {}
    for c in with_speedup_only(results.main_cells):
        key = (c.workload, c.label)
        if key not in best or c.speedup_value > best[key].speedup_value:
            best[key] = c
    return best


def best_of_model(results: Results, workload: str, model: str) -> Cell | None:
    """The workload's ok cell of this model ("threads", "processes") with the best speedup."""
    return best_by_speedup(c for c in results.cells_of(workload) if c.model == model)


def best_by_speedup(cells: Iterable[Cell]) -> Cell | None:
    """The ok cell with the highest speedup among ``cells``, or None."""
    found = with_speedup_only(cells)
    return max(found, key=lambda c: c.speedup_value, default=None)


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
    target = (results.run.get("plan") or {}).get("target_ci") or None
    return {"cells": len(hws), "target": target,
            "median_half_width": stats.median(hws) if hws else None,
            "within_target": sum(h <= target for h in hws) if target else None,
            "within_10": sum(h <= 0.10 for h in hws),
            "noisy": sum(c.noisy for c in results.cells)}
