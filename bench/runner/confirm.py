"""The confirmation phase: each model's best cell, measured again with fresh pairs.

A sweep measures many cells of a workload and the report leads with the best of each
model (the best threads cell, the best processes cell). Choosing the best of many spends
the honesty of their intervals: of 24 cells of one true speedup, the chosen one's 95%
interval covers the truth only about 0.77 of the time at n = 10 (the winner's curse;
``tests/selection.py`` simulates it). So after a workload's blocks, each model's
finalist (``finalists``: the cell ``best_by_speedup`` picks from the sweep's runs) is
started again with fresh workers and measured in a block of its own, paired with fresh
serial runs, at least ``CONFIRM_MIN_PAIRS`` rounds. Its headline figure and interval
(``bench.analysis.cells.headline``) come from these runs alone, which played no part in
the choice, so they cover at their stated level given it.

``CONFIRM_MIN_PAIRS`` is 10 so that a confirmed interval can be taken at
1 - 0.05/25 (Bonferroni) when a later choice is made among confirmed finalists (the
kind verdicts' best model over up to 25 workload-and-model factors): the full range of
n paired ratios covers the median at 1 - 2/2^n, 0.998 at n = 10.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from gilbench.bench.analysis.cells import best_by_speedup, over_ceiling
from gilbench.bench.plan import CellSpec, Precision
from gilbench.bench.results import Cell, Confirmation

CONFIRM_MIN_PAIRS = 10


def confirm_precision(p: Precision) -> Precision:
    """The sweep's precision, with at least ``CONFIRM_MIN_PAIRS`` pairs."""
    least = max(p.min_repeats, CONFIRM_MIN_PAIRS)
    return dataclasses.replace(p, min_repeats=least, max_repeats=max(p.max_repeats, least))


def finalists(cells: Sequence[Cell], usable: int) -> list[Cell]:
    """Each model's best cell of one workload and size, in the order the models first
    appear; serial is no finalist. The best is ``best_by_speedup``'s over the sweep's
    runs; where no cell of the model has an interval yet (a sweep too short for one),
    the best point estimate within the physics: the confirmation gives it its interval."""
    models = dict.fromkeys(c.model for c in cells if c.strategy != "serial" and c.ok)
    out = []
    for m in models:
        mine = [c for c in cells if c.model == m and c.ok and c.serial_times_s]
        best = best_by_speedup(mine, usable) or max(
            (c for c in mine if c.speedup is not None and not over_ceiling(c, usable)),
            key=lambda c: c.speedup_value, default=None)
        if best is not None:
            out.append(best)
    return out


def confirmed(cell: Cell, again: Cell, alphas: tuple[float, ...] = ()) -> Cell:
    """The finalist with its re-measurement (``again``: the same spec, measured anew);
    ``alphas``: how its duel's verdict splits its error between looks, where the run
    plans a second one (``bench.runner.decide``)."""
    if again.ok and again.serial_times_s:
        conf = Confirmation(again.times_s, again.serial_times_s, again.noise,
                            reached_target=again.stopped_on_its_data, alphas=alphas)
    else:
        conf = Confirmation(error=again.error or "the re-measurement had no paired runs")
    return dataclasses.replace(cell, confirmation=conf)


def confirm(cells: Sequence[Cell], spec_of: Callable[[Cell], CellSpec],
            measure: Callable[[list[CellSpec]], list[tuple[Cell, Any]]],
            usable: int, alphas: tuple[float, ...] = ()) -> list[tuple[CellSpec, Cell]]:
    """Re-measure the finalists of ``cells`` (one workload and size) in one block
    (``measure``: ``measure_block`` with the sweep's options); each finalist's spec and
    its cell with the ``Confirmation``."""
    chosen = finalists(cells, usable)
    if not chosen:
        return []
    specs = [spec_of(c) for c in chosen]
    again = measure(specs)
    return [(s, confirmed(c, a, alphas))
            for s, c, (a, _) in zip(specs, chosen, again, strict=True)]
