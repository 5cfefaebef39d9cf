"""How a strategy's speedup grows: scaling laws per curve, and where processes
start to beat threads as tasks grow (a ``--sizes`` sweep)."""

from __future__ import annotations

import math
from typing import TypedDict

from gilbench.bench import stats
from gilbench.bench.analysis.cells import headline
from gilbench.bench.analysis.granularity import Crossover
from gilbench.bench.analysis.once import once
from gilbench.bench.analysis.verdicts import TIE_RATIO, Duel, duel
from gilbench.bench.results import Cell, Results

AMDAHL_MIN_POINTS = 2  # worker counts within 2..usable CPUs an Amdahl fit needs


class CurveLaws(TypedDict):
    # Amdahl's serial fraction, fitted up to the usable CPUs; None unless at least
    # two worker counts between 2 and the usable CPUs carry it (one point fits any f).
    amdahl_f: float | None
    karp_flatt: list[tuple[int, float]]  # (cores, e) for 1 < cores <= usable
    stops_paying: int | None  # the last worker count that still gained
    top: int | None  # the largest worker count measured


def curve_laws(cells: list[Cell], usable: int) -> CurveLaws:
    """The scaling laws of one strategy's curve (its ok cells with a speedup)."""
    pts = sorted((c for c in cells if c.ok and c.speedup), key=lambda c: c.workers)
    curve = [(c.workers, c.speedup_value) for c in pts]
    on_cores = [(p, x) for p, x in curve if 1 < p <= usable]
    fit = stats.amdahl_fit(on_cores) if len(on_cores) >= AMDAHL_MIN_POINTS else None
    return {"amdahl_f": fit,
            "karp_flatt": [(p, stats.karp_flatt(x, p)) for p, x in on_cores],
            "stops_paying": stats.stops_paying(curve),
            "top": pts[-1].workers if pts else None}


class SizePoint(TypedDict):
    """One task size of a sweep: the serial time per task and the best cells there."""

    size: int
    tasks: int
    task_s: float
    threads: Cell | None
    processes: Cell | None
    duel: Duel  # threads against processes at this size (the two headlines above)
    by_label: dict[str, Cell]  # each strategy label's headline cell at this size


def size_points(results: Results, workload: str) -> list[SizePoint]:
    """Per size of a task-size sweep: task time, best thread and process cells (computed
    once per run)."""
    return list(once(results, ("size_points", workload),
                     lambda: tuple(_size_points(results, workload))))


def _size_points(results: Results, workload: str) -> list[SizePoint]:
    out: list[SizePoint] = []
    usable = results.usable_cpus
    for size, cells in results.sizes_of(workload).items():
        base = next((c for c in cells if c.strategy == "serial" and c.ok and c.median_s), None)
        if base is None:
            continue
        by_label: dict[str, Cell] = {}
        for label in dict.fromkeys(c.label for c in cells if c.strategy != "serial"):
            best = headline((c for c in cells if c.label == label), usable)
            if best is not None:
                by_label[label] = best.cell
        d = duel(cells, usable)
        out.append({"size": size, "tasks": base.tasks, "task_s": base.median_value / base.tasks,
                    "threads": d.threads, "processes": d.processes, "duel": d,
                    "by_label": by_label})
    return out


def crossovers(points: list[SizePoint]) -> list[tuple[str, Crossover]]:
    """Per process strategy, where it starts to beat the best thread strategy."""
    labels = dict.fromkeys(label for p in points for label, c in p["by_label"].items()
                           if c.model == "processes")
    out = []
    for label in labels:
        mine: list[SizePoint] = [{**p, "processes": p["by_label"].get(label)} for p in points]
        out.append((label, crossover(mine)))
    return out


def crossover(points: list[SizePoint]) -> Crossover:
    """Where processes start to beat threads as tasks grow: the granularity analysis's
    ``Crossover``, one state per size from that size's verdict (processes surely win: it
    holds; threads win or a tie: it does not; can't tell: unknown)."""
    states: list[tuple[float, bool | None, float | None]] = []
    for p in points:
        t, q = p["threads"], p["processes"]
        if t is None or q is None or not t.speedup or not q.speedup:
            continue
        mine = p.get("duel")  # the size's duel; a strategy's own curve keeps threads' reach
        winner = Duel(t, q, mine.t_reach if mine else None).winner
        state = None if winner is None else winner == "processes"
        states.append((p["task_s"], state,
                       math.log(q.speedup_value / t.speedup_value / TIE_RATIO)))
    return Crossover("processes beat threads", True, tuple(states))
