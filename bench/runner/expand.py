"""What a sweep runs: the cells a plan (``bench.plan.Plan``, validated by the CLI) expands
to, and about how long they take."""

from __future__ import annotations

import multiprocessing
from collections.abc import Collection

import gilbench.bench.runner.granularity as granularity
from gilbench.bench import machine
from gilbench.bench.plan import CellSpec, Plan
from gilbench.bench.profiles import PROFILES, SERIAL_RUN_S
from gilbench.bench.strategies import STRATEGIES
from gilbench.bench.suites import cost_suite
from gilbench.workloads import WORKLOADS, Task

MAX_SWEEP_TASKS = 4096  # tasks per run at the smallest sizes of a --sizes sweep


def points(plan: Plan, workload: str) -> list[tuple[int, int]]:
    """(size, tasks) of each task size the workload runs at, smallest first."""
    base = plan.size_of(workload)
    if not plan.size_factors:
        return [(base, plan.tasks)]
    out: dict[int, int] = {}
    for f in sorted(plan.size_factors):
        size = WORKLOADS[workload].scaled(base, f)
        # The task count from the size's real cost: a kernel that cannot go below
        # size 1 must not get more work than the others.
        ratio = WORKLOADS[workload].cost_ratio(size, base)
        out[size] = min(MAX_SWEEP_TASKS, max(plan.tasks, round(plan.tasks / ratio)))
    return sorted(out.items())


def methods_here(plan: Plan) -> tuple[str, ...]:
    """The start methods process cells run with in this interpreter: the plan's, or (none
    given) this interpreter's own default — forkserver on Linux from Python 3.14, fork
    before it, spawn on macOS and Windows."""
    return plan.start_methods or (multiprocessing.get_start_method(),)


def specs(plan: Plan) -> list[CellSpec]:
    """The plan's cells in run order: per workload and size, serial first; the speedup
    sweep's, then the granularity sweep's (``bench.runner.granularity``) that are not
    the same cells (none without a sweep)."""
    out: list[CellSpec] = []
    if "speedup" in plan.suites:
        others = [s for s in plan.strategies if s != "serial"]
        for w in plan.workloads:
            for size, tasks in points(plan, w):
                out.append(CellSpec(w, "serial", None, 1, size, tasks))
                for name in others:
                    methods = (methods_here(plan) if STRATEGIES[name].uses_processes
                               else (None,))
                    for method in methods:
                        for n in plan.workers:
                            out.append(CellSpec(w, name, method, n, size, tasks))
    if "granularity" in plan.suites:
        keys = {s.key for s in out}
        out += [s for s in granularity.specs(plan, methods_here(plan)) if s.key not in keys]
    return out


# ------------------------------------------------------------ how long a run takes

# What a cell costs beyond its time budget (its workers started and warmed, the warm-up
# run, rounds past the budget until the 6 pairs every interval needs), per worker
# process started (a strategy adds its own extra_start_s; a cost suite says its own
# seconds): measured on the 2-CPU development VM
# with `gilbench run` (docs/usage.md says how the estimate grows with the CPUs).
CELL_OVERHEAD_S = {"smoke": 0.05, "quick": 0.1, "standard": 0.1, "full": 4.0}
PROCESS_START_S = 0.02


def spec_cost_s(plan: Plan, spec: CellSpec, available: Collection[str] | None = None,
                usable: int | None = None) -> float:
    """About how long one cell takes: its time budget, what a cell costs beyond it and
    the workers it starts (0 for a cell that will be skipped with its reason).
    ``available``: the strategies the interpreter that runs it has (None: this one's)."""
    cls = STRATEGIES[spec.strategy]
    here = cls.available()[0] if available is None else spec.strategy in available
    if not here or cls.applies_to(Task(spec.workload, spec.size)):
        return 0.0  # skipped with its reason: no time
    if granularity.is_point(plan, spec.workload, spec.size):
        return granularity.cost_s(plan, spec)
    total = plan.cell_budget_s + CELL_OVERHEAD_S.get(plan.profile, CELL_OVERHEAD_S["standard"])
    total += more_tasks_s(plan, spec, usable)
    if cls.uses_processes:
        total += spec.workers * PROCESS_START_S
    return total + cls.extra_start_s  # a cluster, fork+exec'd workers: the strategy's own


def extra_run_s(plan: Plan, spec: CellSpec) -> float:
    """How much longer one serial run of the cell's workload is than at its profile's task
    count, when a run has more tasks (one per worker at least: ``--workers`` past the
    profile's task count); 0 otherwise."""
    profile = PROFILES.get(plan.profile)
    if profile is None or spec.tasks <= profile.tasks:
        return 0.0
    return SERIAL_RUN_S.get(plan.profile, SERIAL_RUN_S["standard"]) * (
        spec.tasks / profile.tasks - 1)


def more_tasks_s(plan: Plan, spec: CellSpec, usable: int | None = None) -> float:
    """What a cell's own runs cost beyond its profile's when a run has more tasks than the
    profile's: its fewest runs (warm-up and repeats), each that much longer, spread over
    its workers on the usable CPUs. (The serial runs of its rounds, shared by the cells of
    a block, are counted once per workload: ``more_serial_s``.)"""
    extra = extra_run_s(plan, spec)
    if extra == 0:
        return 0.0
    cpus = usable or machine.usable_cpus()
    return (plan.warmup + plan.repeats) * extra / min(spec.workers, cpus)


def more_serial_s(plan: Plan, specs: list[CellSpec], usable: int | None = None) -> float:
    """The rounds' serial runs beyond the profile's when runs have more tasks: per workload
    and size, its fewest rounds (the repeats), each with a serial run per CPU it pairs on
    (``bench.runner.placement``: up to ``SPREAD``), that much longer."""
    from gilbench.bench.runner.placement import SPREAD

    per_round = min(SPREAD, usable or machine.usable_cpus())
    blocks = {(s.workload, s.size): extra_run_s(plan, s) for s in specs
              if s.strategy != "serial"}
    return sum(plan.repeats * per_round * extra for extra in blocks.values())


def suite_cost_s(plan: Plan, suite: str) -> float:
    """About how long a cost suite takes at the plan's profile (its own declaration:
    ``CostSuite.seconds``; an unknown suite is a KeyError, never 0 s)."""
    return cost_suite(suite).expected_s(plan.profile)


def confirmation_cost_s(plan: Plan, specs: list[CellSpec],
                        available: Collection[str] | None = None,
                        usable: int | None = None) -> float:
    """About how long the confirmations of these cells take: per workload and size, one
    more cell for each kind of worker that runs there (``bench.runner.confirm``: its
    finalist, measured again), priced as the dearest cell of that kind."""
    dearest: dict[tuple[str, int, str], float] = {}
    for spec in specs:
        if spec.strategy == "serial" or granularity.is_point(plan, spec.workload, spec.size):
            continue  # a granularity point is read with joint intervals, not confirmed
        key = (spec.workload, spec.size, STRATEGIES[spec.strategy].model)
        dearest[key] = max(dearest.get(key, 0.0), spec_cost_s(plan, spec, available, usable))
    return sum(dearest.values())


DECISION_SHARE = 0.5  # a run's decision budget, of its confirmations' estimated cost


def decision_budget_s(plan: Plan, specs: list[CellSpec],
                      available: Collection[str] | None = None,
                      usable: int | None = None) -> float:
    """How long a run's second looks at undecided duels (``bench.runner.decide``) may take
    together: ``DECISION_SHARE`` of its confirmations' estimated cost (0 when nothing is
    confirmed)."""
    return DECISION_SHARE * confirmation_cost_s(plan, specs, available, usable)


def expected_s(plan: Plan, specs: list[CellSpec], suites: list[str],
               available: Collection[str] | None = None, usable: int | None = None) -> float:
    """About how long these cells (their confirmations and the decision budget for
    undecided duels included: ``bench.runner.decide``) and cost suites take (an estimate
    from the budgets), in an interpreter that has the strategies ``available`` (None:
    this one), on ``usable`` CPUs (None: this machine's)."""
    return (sum(spec_cost_s(plan, spec, available, usable) for spec in specs)
            + more_serial_s(plan, specs, usable)
            + (1 + DECISION_SHARE) * confirmation_cost_s(plan, specs, available, usable)
            + sum(suite_cost_s(plan, s) for s in suites))
