"""What a sweep runs: the plan (validated by the CLI) and the cells it expands to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.results import CellKey
from bench.runner.precision import Precision
from bench.strategies import STRATEGIES
from workloads import WORKLOADS, Task

MAX_SWEEP_TASKS = 4096  # tasks per run at the smallest sizes of a --sizes sweep


@dataclass(frozen=True)
class CellSpec:
    workload: str
    strategy: str
    start_method: str | None
    workers: int
    size: int
    tasks: int

    @property
    def key(self) -> CellKey:
        """The key of the Cell it becomes (``Cell.key``)."""
        return (self.workload, self.size, self.strategy, self.start_method, self.workers)


@dataclass(frozen=True)
class Plan:
    """Everything a sweep needs; built (and validated) by the CLI."""

    profile: str
    workloads: tuple[str, ...]
    strategies: tuple[str, ...]
    workers: tuple[int, ...]
    start_methods: tuple[str, ...]
    repeats: int
    warmup: int
    tasks: int
    timeout_s: float
    sizes: tuple[tuple[str, int], ...]  # (workload, size)
    suites: tuple[str, ...] = ("speedup",)  # this sweep, and/or the cost suites
    # Adaptive repeats (0: exactly ``repeats``): see Precision.
    max_repeats: int = 0
    target_ci: float = 0.0
    cell_budget_s: float = 0.0
    # A task-size sweep (--sizes): task-cost factors relative to ``sizes``, the
    # total work kept about the same by scaling the task count inversely.
    size_factors: tuple[float, ...] = ()
    # Users' kernel files and modules (--workloads-from), imported before the sweep in
    # every interpreter that runs it; and the kernels whose size gilbench calibrated
    # here, with one task's time at that size (workload, seconds).
    workloads_from: tuple[str, ...] = ()
    calibrated: tuple[tuple[str, float], ...] = ()

    @property
    def precision(self) -> Precision:
        return Precision(self.repeats, max(self.repeats, self.max_repeats), self.target_ci,
                         self.cell_budget_s)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Plan:
        """The plan from its JSON form (``dataclasses.asdict``: lists instead of tuples)."""
        lists = ("workloads", "strategies", "workers", "start_methods", "suites",
                 "size_factors", "workloads_from")
        return cls(**{**d, **{k: tuple(d[k]) for k in lists if k in d},
                      "sizes": tuple(tuple(x) for x in d["sizes"]),
                      "calibrated": tuple(tuple(x) for x in d.get("calibrated", ()))})

    @property
    def sweeps(self) -> bool:
        return "speedup" in self.suites

    def size_of(self, workload: str) -> int:
        return dict(self.sizes)[workload]

    def points(self, workload: str) -> list[tuple[int, int]]:
        """(size, tasks) of each task size the workload runs at, smallest first."""
        base = self.size_of(workload)
        if not self.size_factors:
            return [(base, self.tasks)]
        out: dict[int, int] = {}
        for f in sorted(self.size_factors):
            size = WORKLOADS[workload].scaled(base, f)
            # The task count from the size's real cost: a kernel that cannot go below
            # size 1 must not get more work than the others.
            ratio = WORKLOADS[workload].cost_ratio(size, base)
            out[size] = min(MAX_SWEEP_TASKS, max(self.tasks, round(self.tasks / ratio)))
        return sorted(out.items())

    def specs(self) -> list[CellSpec]:
        """Cells in run order: per workload and size, serial first (none without the sweep)."""
        out: list[CellSpec] = []
        if not self.sweeps:
            return out
        others = [s for s in self.strategies if s != "serial"]
        for w in self.workloads:
            for size, tasks in self.points(w):
                out.append(CellSpec(w, "serial", None, 1, size, tasks))
                for name in others:
                    methods = self.start_methods if STRATEGIES[name].uses_processes else (None,)
                    for method in methods:
                        for n in self.workers:
                            out.append(CellSpec(w, name, method, n, size, tasks))
        return out



# ------------------------------------------------------------ how long a run takes

# What a cell costs beyond its time budget (its workers started and warmed, the warm-up
# run, rounds past the budget until the 6 pairs every interval needs), per worker
# process started, and what each cost suite takes: measured on the 2-CPU development VM
# with `gilbench run` (docs/usage.md says how the estimate grows with the CPUs).
CELL_OVERHEAD_S = {"smoke": 0.05, "quick": 0.1, "standard": 0.1, "full": 4.0}
PROCESS_START_S = 0.02
# Strategies whose cells start more than processes: a Dask LocalCluster (scheduler,
# nanny per worker) and loky's fork+exec workers, per cell.
EXTRA_START_S = {"dask": 3.0, "loky": 1.0}
SUITE_S = {"smoke": {"startup": 8, "ipc": 6, "sync": 6, "latency": 6},
           "quick": {"startup": 10, "ipc": 8, "sync": 6, "latency": 6},
           "standard": {"startup": 15, "ipc": 60, "sync": 10, "latency": 35},
           "full": {"startup": 150, "ipc": 150, "sync": 150, "latency": 150}}


def spec_cost_s(plan: Plan, spec: CellSpec) -> float:
    """About how long one cell takes: its time budget, what a cell costs beyond it and
    the workers it starts (0 for a cell that will be skipped with its reason)."""
    cls = STRATEGIES[spec.strategy]
    if not cls.available()[0] or cls.applies_to(Task(spec.workload, spec.size)):
        return 0.0  # skipped with its reason: no time
    total = plan.cell_budget_s + CELL_OVERHEAD_S.get(plan.profile, CELL_OVERHEAD_S["standard"])
    if cls.uses_processes:
        total += spec.workers * PROCESS_START_S
    return total + EXTRA_START_S.get(spec.strategy, 0.0)


def suite_cost_s(plan: Plan, suite: str) -> float:
    """About how long a cost suite takes at the plan's profile."""
    return float(SUITE_S.get(plan.profile, SUITE_S["standard"]).get(suite, 0))


def expected_s(plan: Plan, specs: list[CellSpec], suites: list[str]) -> float:
    """About how long these cells and cost suites take (an estimate from the budgets)."""
    return (sum(spec_cost_s(plan, spec) for spec in specs)
            + sum(suite_cost_s(plan, s) for s in suites))
