"""The granularity sweep's plan: from which task size each way pays.

"Threads or processes?" has no answer without "for tasks of what size?": a process pays
for every task it is sent (pickling, a trip through a pipe, a scheduler's bookkeeping),
threads do not. The granularity suite runs every strategy at the usable CPU count on
tasks from about 0.1 ms to about 100 ms, log-spaced (``TARGETS_S``), and the report reads
off where each curve crosses (``bench.analysis.granularity``).

The sizes come from each kernel's cost model (``Workload.scaled``): one task is timed at
the profile's size before the run, and the size of each target follows. A kernel that
cannot go as small (sizes are whole numbers: sleep counts milliseconds) keeps the
points it reaches. Each point does at least ``WORK_S`` of serial work per run, in a whole
number of tasks per worker (so no worker waits on another's last task), and at least one
task per worker at the largest sizes.

The cells are ordinary cells (``bench.runner.sweep`` measures them in paired blocks),
saved with the rest; their pairs are enough for intervals that hold jointly over the
whole curve family (``min_pairs``), since a crossover is read from many cells at once.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from gilbench.bench import stats
from gilbench.bench.plan import CellSpec, Plan, Precision
from gilbench.bench.strategies import STRATEGIES
from gilbench.workloads import WORKLOADS

# The per-task times each profile aims at (seconds): one point per decade at quick, two
# at standard, three at full; about three decades in all (smoke: the tests' two points).
TARGETS_S: dict[str, tuple[float, ...]] = {
    "smoke": (0.0003, 0.003),
    "quick": (0.0001, 0.001, 0.01, 0.1),
    "standard": tuple(0.0001 * 10 ** (i / 2) for i in range(7)),
    "full": tuple(0.0001 * 10 ** (i / 3) for i in range(10)),
}
# The least serial work per run at each point (seconds): enough tasks that what a run
# costs once (dispatch, gathering the results) does not dominate at the small sizes.
WORK_S = {"smoke": 0.003, "quick": 0.04, "standard": 0.1, "full": 0.5}
MAX_TASKS = 4096  # tasks per run at the smallest sizes


def targets(profile: str) -> tuple[float, ...]:
    return TARGETS_S.get(profile, TARGETS_S["standard"])


def points_for(workload: str, base: int, base_s: float, profile: str, workers: int,
               main: tuple[int, int] | None = None) -> list[tuple[int, int, float]]:
    """(size, tasks, expected task time) per target, smallest first, each size once.
    ``main``: the speedup sweep's (size, tasks): a point at that size reuses its cells."""
    w = WORKLOADS[workload]
    out: dict[int, tuple[int, float]] = {}
    for target in targets(profile):
        size = w.scaled(base, target / base_s)
        est = base_s * w.cost_ratio(size, base)
        if main is not None and size == main[0]:
            out[size] = (main[1], est)
            continue
        per_worker = max(1, math.ceil(WORK_S.get(profile, WORK_S["standard"])
                                      / (workers * max(est, 1e-9))))
        tasks = min(workers * per_worker, max(workers, MAX_TASKS // workers * workers))
        out.setdefault(size, (tasks, est))
    return [(size, tasks, est) for size, (tasks, est) in sorted(out.items())]


def with_points(plan: Plan, workers: int, task_s: Callable[[str, int], float | None],
                say: Any = None) -> Plan:
    """The plan with its granularity points, each kernel's task timed once first
    (``task_s``: ``bench.runner.sweep.one_task_s``)."""
    found: list[tuple[str, int, int, float]] = []
    calibrated = dict(plan.calibrated)
    for w in plan.workloads:
        base = plan.size_of(w)
        base_s = calibrated.get(w) or (task_s(w, base) if base else None)
        if base_s is None or base_s <= 0:
            found.append((w, base, plan.tasks, 0.0))  # skipped with its reason
            continue
        main = (base, plan.tasks) if "speedup" in plan.suites else None
        pts = points_for(w, base, base_s, plan.profile, workers, main)
        found += [(w, size, tasks, est) for size, tasks, est in pts]
        if say:
            reached = ", ".join(_fmt_ms(est) for _, _, est in pts)
            say(f"granularity: {w} at tasks of about {reached}")
    return dataclasses.replace(plan, granularity=tuple(found), granularity_workers=workers)


def _fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.2g} ms"


def strategies(plan: Plan) -> tuple[str, ...]:
    """The granularity sweep's strategies: its own list, else the plan's."""
    return plan.granularity_strategies or plan.strategies


def specs(plan: Plan, methods: tuple[str, ...]) -> list[CellSpec]:
    """The granularity cells, per workload and point: serial, then every strategy at the
    granularity worker count (``methods``: the start methods of process strategies)."""
    out: list[CellSpec] = []
    n = plan.granularity_workers or 1
    others = [s for s in strategies(plan) if s != "serial"]
    for w in plan.workloads:
        for size, tasks, _ in plan.granularity_points(w):
            out.append(CellSpec(w, "serial", None, 1, size, tasks))
            for name in others:
                for method in (methods if STRATEGIES[name].uses_processes else (None,)):
                    out.append(CellSpec(w, name, method, n, size, tasks))
    return out


def family(plan: Plan, workload: str) -> int:
    """How many cells a workload's crossovers are read from together: every non-serial
    cell of its granularity points (``min_pairs`` sizes their intervals for that)."""
    points = len(plan.granularity_points(workload))
    return max(1, points * sum(1 for s in strategies(plan) if s != "serial"))


def min_pairs(family_size: int) -> int:
    """The fewest pairs whose median interval reaches 1 - 0.05/family (Bonferroni over
    the family): fewer could not say anything at that level."""
    level = 1 - (1 - stats.CONFIDENCE) / family_size
    n = 6
    while stats.median_rank(n, level) is None:
        n += 1
    return n


def precision(plan: Plan, workload: str) -> Precision:
    """The precision of a workload's granularity cells: the profile's, with at least the
    pairs its family's joint intervals need."""
    base = plan.precision
    need = min_pairs(family(plan, workload))
    return dataclasses.replace(base, min_repeats=max(base.min_repeats, need),
                               max_repeats=max(base.max_repeats, need))


def is_point(plan: Plan, workload: str, size: int) -> bool:
    """Whether (workload, size) is a granularity point and not the speedup sweep's size."""
    if "speedup" in plan.suites and size == plan.size_of(workload):
        return False
    return any(size == s for s, _, _ in plan.granularity_points(workload))


def cost_s(plan: Plan, spec: CellSpec, available: bool = True) -> float:
    """About how long one granularity cell takes: its pairs of (serial run, its run) at
    the point's work, what it pays per task, and its start."""
    cls = STRATEGIES[spec.strategy]
    if not available:
        return 0.0
    est = next((t for size, _, t in plan.granularity_points(spec.workload)
                if size == spec.size), 0.0)
    work = spec.tasks * est
    pairs = precision(plan, spec.workload).min_repeats + plan.warmup
    run = work / max(1.0, min(spec.workers, 2.0)) + spec.tasks * cls.per_task_s
    return pairs * (work + run) + 0.1 + cls.extra_start_s + (
        0.02 * spec.workers if cls.uses_processes else 0.0)
