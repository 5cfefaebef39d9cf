"""The sweep: workloads x sizes x strategies x start methods x worker counts.

Per workload and size the serial cell runs first (every speedup divides by
it, and its results are the reference every run is checked against). Then
the other cells are measured in blocks (``blocks_of``: consecutive strategies
with all their worker counts), each by a ``BlockMeasurement``. Last, each
model's best cell is measured again with fresh pairs (``bench.runner.confirm``):
the headline figures come from those runs, which played no part in the choice.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

import gilbench.bench.runner.granularity as granularity
from gilbench.bench import machine
from gilbench.bench.plan import CellSpec, Plan, Precision
from gilbench.bench.results import Cell, CellKey
from gilbench.bench.runner.block import Outcome, cell_fields, measure_block
from gilbench.bench.runner.confirm import confirm, confirm_precision
from gilbench.bench.runner.decide import DUEL_ALPHAS, Budget, decision_budget_s, follow_up
from gilbench.bench.runner.expand import confirmation_cost_s, specs
from gilbench.bench.runner.precision import Clock
from gilbench.bench.strategies import STRATEGIES, Strategy
from gilbench.bench.watchdog import watched
from gilbench.workloads import WORKLOADS, Task, Workload, no_resource


def single_thread_blas() -> None:
    """Worker initializer: hold BLAS to one thread for the rest of this process."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


@contextlib.contextmanager
def blas_limit(workload: Workload) -> Iterator[None]:
    if not workload.single_thread_blas:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def missing_requirement(workload: Workload) -> str | None:
    for module in workload.requires:
        if importlib.util.find_spec(module) is None:
            return f"needs {module}, which is not installed (pip install {module})"
    return None


MAX_LIVE_WORKERS = 64  # workers alive at once in one block of cells


CALIBRATION_RUNS = 3  # times one task is timed before a granularity sweep (the fastest counts)


def one_task_s(workload: str, size: int, timeout_s: float | None = None) -> float | None:
    """One task's time at ``size`` here, the fastest of a few (None: the kernel lacks a
    module it needs, so its cells are skipped with the reason anyway): what the
    granularity sweep scales its sizes from (``bench.runner.granularity``)."""
    w = WORKLOADS[workload]
    if missing_requirement(w):
        return None
    best = math.inf
    with (w.setup or no_resource)() as resource, blas_limit(w):
        task = Task(workload, size, resource)
        for seed in range(CALIBRATION_RUNS):
            with watched(workload, "one task timed before the granularity sweep", timeout_s):
                t0 = time.perf_counter()
                task(seed)
                best = min(best, time.perf_counter() - t0)
    return best


def blocks_of(specs: Sequence[CellSpec],
              strategies: dict[str, type[Strategy]] = STRATEGIES) -> list[list[CellSpec]]:
    """Cells measured together: consecutive strategies (each with all its worker
    counts) while their workers add up to at most MAX_LIVE_WORKERS; each cell
    of a strategy that does not share rounds (its idle workers are busy:
    Dask's heartbeats) is a block of its own."""
    per_strategy: dict[tuple[Any, ...], list[CellSpec]] = {}
    for s in specs:
        key = (s.strategy, s.start_method) + (() if strategies[s.strategy].shares_rounds
                                               else (s.workers,))
        per_strategy.setdefault(key, []).append(s)
    blocks: list[list[CellSpec]] = []
    live = 0
    shared = False
    for (name, *_), group in per_strategy.items():
        workers = sum(s.workers for s in group)
        shares = strategies[name].shares_rounds
        if blocks and shares and shared and live + workers <= MAX_LIVE_WORKERS:
            blocks[-1].extend(group)
            live += workers
        else:
            blocks.append(list(group))
            live, shared = workers, shares
    return blocks


def run(plan: Plan, *, on_cell: Callable[[CellSpec, Cell], None] | None = None,
        clock: Clock = time.perf_counter, skip: Collection[CellKey] = ()) -> list[Cell]:
    """Run every cell of the plan; ``on_cell`` sees each as it finishes.

    Per workload and size, the serial cell first, then one block per
    strategy and start method (its worker counts measured together, with
    serial runs interleaved), then the confirmation of each model's best cell
    (``bench.runner.confirm``): ``on_cell`` sees that cell a second time, with its
    ``confirmation``, and keeps the later one; then, where threads against processes is
    still undecided and the run's decision budget lasts, a second look at that duel
    (``bench.runner.decide``): its two finalists, seen a third time. ``skip`` holds the
    keys of cells already measured (a resumed run); they are not run again, but a
    skipped serial cell's results are recomputed when a later cell needs them as a
    reference.
    """
    cells: list[Cell] = []
    usable = machine.usable_cpus()
    done: set[CellKey] = set(skip)
    groups: dict[tuple[str, int], list[CellSpec]] = {}
    for s in specs(plan):
        groups.setdefault((s.workload, s.size), []).append(s)
    # the run's time for second looks at undecided duels (bench.runner.decide)
    budget = Budget(decision_budget_s(plan, [s for g in groups.values() for s in g],
                                      usable=usable))

    def report(s: CellSpec, cell: Cell) -> None:
        at = next((i for i, c in enumerate(cells) if c.key == cell.key), None)
        if at is None:
            cells.append(cell)
        else:
            cells[at] = cell
        if on_cell:
            on_cell(s, cell)

    for (name, size), group in groups.items():
        workload = WORKLOADS[name]
        todo = [s for s in group if s.key not in done]
        if not todo:
            continue
        missing = missing_requirement(workload)
        if missing:
            for s in todo:
                report(s, Cell(status="skipped", error=f"{name} {missing}", **cell_fields(s)))
            continue
        initializer = single_thread_blas if workload.single_thread_blas else None
        # A granularity point: pairs enough for intervals that hold over its whole curve
        # family, and no confirmation (its crossovers are read with those joint intervals).
        point = granularity.is_point(plan, name, size)
        precision = granularity.precision(plan, name) if point else plan.precision
        with (workload.setup or no_resource)() as resource, blas_limit(workload):
            task = Task(name, size, resource)
            serial = STRATEGIES["serial"](1, None, None)
            reference = None
            first = group[0]  # the serial cell
            if first in todo:
                [(cell, out)] = measure_block([first], task, None, precision=precision,
                                              warmup=plan.warmup, timeout_s=plan.timeout_s,
                                              clock=clock)
                report(first, cell)
                reference = out if cell.ok else None
            else:
                with watched(name, "the serial results a resumed run checks against",
                             plan.timeout_s):
                    reference = [task(i) for i in range(first.tasks)]
            swept: list[Cell] = []
            for block in blocks_of([s for s in todo if s is not first]):
                measured = measure_block(block, task, reference, precision=precision,
                                         warmup=plan.warmup, timeout_s=plan.timeout_s,
                                         serial=serial if reference is not None else None,
                                         initializer=initializer, clock=clock,
                                         addresses=dict(plan.addresses))
                for s, (cell, _) in zip(block, measured, strict=True):
                    report(s, cell)
                    swept.append(cell)
            if reference is not None and not point:  # else nothing to confirm
                options = dict(precision=confirm_precision(plan.precision), warmup=plan.warmup,
                               timeout_s=plan.timeout_s, serial=serial,
                               initializer=initializer, clock=clock,
                               addresses=dict(plan.addresses))
                alphas = DUEL_ALPHAS if budget.total_s > 0 else ()
                t0 = clock()
                for s, cell in confirm_finalists(swept, group, task, reference, options,
                                                 usable, alphas):
                    report(s, cell)  # the same key again: now with its confirmation
                # the budget follows what the confirmations really cost
                budget.confirmed(confirmation_cost_s(plan, group, usable=usable), clock() - t0)
                mine = [c for c in cells if (c.workload, c.size) == (name, size)]
                for s, cell in decide_duel(mine, group, task, reference, options, usable,
                                           plan.cell_budget_s, budget, clock):
                    report(s, cell)  # and again: now with its duel's second look
    return cells


def confirm_finalists(swept: Sequence[Cell], group: Sequence[CellSpec], task: Task,
                      reference: list[Any], options: dict[str, Any],
                      usable: int, alphas: tuple[float, ...] = ()
                      ) -> list[tuple[CellSpec, Cell]]:
    """Each model's finalist among ``swept`` (one workload and size), re-measured in one
    block with ``options`` (``measure_block``'s)."""
    by_key = {s.key: s for s in group}

    def again(chosen: list[CellSpec]) -> list[Outcome]:
        return measure_block(chosen, task, reference, **options)

    return confirm(swept, lambda c: by_key[c.key], again, usable, alphas)


def decide_duel(cells: Sequence[Cell], group: Sequence[CellSpec], task: Task,
                reference: list[Any], options: dict[str, Any], usable: int,
                per_cell_s: float, budget: Budget, clock: Clock
                ) -> list[tuple[CellSpec, Cell]]:
    """The duel of one workload and size's ``cells``, looked at again where the
    confirmation left it undecided (``bench.runner.decide``): its finalists measured
    together with ``options`` but no serial runs."""
    by_key = {s.key: s for s in group}

    def again(chosen: list[CellSpec], precision: Precision) -> list[Outcome]:
        return measure_block(chosen, task, reference,
                             **{**options, "precision": precision, "serial": None})

    return follow_up(cells, lambda c: by_key[c.key], again, usable, per_cell_s, budget, clock)
