"""The sweep: workloads x sizes x strategies x start methods x worker counts.

Per workload and size the serial cell runs first (every speedup divides by
it, and its results are the reference every run is checked against). Then
the other cells are measured in blocks (``blocks_of``: consecutive strategies
with all their worker counts): every cell's workers are started (timed
separately as ``startup_s``) and warmed, and rounds run each cell once plus
the serial kernel once, in an order that reverses every round so that a
drift cancels. Each cell's speedup pairs its runs with the serial
runs of the same rounds, and a cell repeats until the 95% confidence interval
of its speedup is tight enough or its time budget is spent (``Precision``).
The clock is a parameter, so tests can use a fake one. Every timed run is
also bracketed by a CPU-time reading and a peak-memory reading (``meters``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bench import machine, meters, stats
from bench.results import Cell
from bench.strategies import STRATEGIES, CellFailure, Deadline, Strategy, describe
from workloads import WORKLOADS, Task, Workload, no_resource

Clock = Callable[[], float]
MAX_SWEEP_TASKS = 4096  # tasks per run at the smallest sizes of a --sizes sweep


@dataclass(frozen=True)
class CellSpec:
    workload: str
    strategy: str
    start_method: str | None
    workers: int
    size: int
    tasks: int


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

    @property
    def precision(self) -> Precision:
        return Precision(self.repeats, max(self.repeats, self.max_repeats), self.target_ci,
                         self.cell_budget_s)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Plan:
        """The plan from its JSON form (``dataclasses.asdict``: lists instead of tuples)."""
        lists = ("workloads", "strategies", "workers", "start_methods", "suites",
                 "size_factors")
        return cls(**{**d, **{k: tuple(d[k]) for k in lists if k in d},
                      "sizes": tuple(tuple(x) for x in d["sizes"])})

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


def cell_fields(spec: CellSpec,
                strategies: dict[str, type[Strategy]] = STRATEGIES) -> dict[str, Any]:
    """The identifying fields of a spec's Cell (a thread strategy has no start method)."""
    cls = strategies[spec.strategy]
    return dict(workload=spec.workload, kind=WORKLOADS[spec.workload].kind, size=spec.size,
                tasks=spec.tasks, strategy=spec.strategy, model=cls.model,
                start_method=spec.start_method if cls.uses_processes else None,
                workers=spec.workers)


class ResultMismatch(CellFailure):
    pass


@dataclass(frozen=True)
class Precision:
    """When a cell has been repeated enough.

    Each cell repeats until the 95% confidence interval of its speedup is
    within ``target`` of it (relative half-width), but at least
    ``min_repeats`` and at most ``max_repeats`` times, and no longer than
    ``budget_s`` seconds of timed rounds per cell (a block of cells shares
    its cells' budgets). ``target`` 0 means exactly ``min_repeats``.
    """

    min_repeats: int
    max_repeats: int = 0
    target: float = 0.0
    budget_s: float = 0.0

    @property
    def adaptive(self) -> bool:
        return self.target > 0 and self.max_repeats > self.min_repeats

    @classmethod
    def fixed(cls, repeats: int) -> Precision:
        return cls(repeats, repeats)


class StoppingRule:
    """The adaptive rule, with the clock a parameter (tests use a fake one)."""

    def __init__(self, precision: Precision, cells: int = 1, clock: Clock = time.perf_counter):
        self.p = precision
        self.clock = clock
        self.end = clock() + precision.budget_s * max(1, cells)

    def converged(self, repeats: int, half_width: float | None) -> bool:
        """This cell is done: enough repeats, and (adaptive) a tight enough interval."""
        if repeats < self.p.min_repeats:
            return False
        if not self.p.adaptive or repeats >= self.p.max_repeats:
            return True
        return half_width is not None and half_width <= self.p.target

    def out_of_time(self, repeats: int) -> bool:
        """The block must stop even if some cell has not converged."""
        return repeats >= self.p.min_repeats and (
            repeats >= max(self.p.max_repeats, self.p.min_repeats) or self.clock() >= self.end)


def noise_reason(cell_hw: float | None, rel: float, repeats: int,
                 precision: Precision) -> str | None:
    """Why a cell's spread is too wide to trust, or None."""
    reasons = []
    if precision.adaptive and cell_hw is not None and cell_hw > precision.target:
        why = "maximum repeats" if repeats >= precision.max_repeats else "time budget spent"
        reasons.append(f"95% CI ±{cell_hw:.1%} after {repeats} repeats, above the "
                       f"±{precision.target:.0%} target ({why})")
    if not precision.adaptive and rel >= stats.NOISY_REL_STD:
        # With fixed repeats, pyperf's rule; adaptive repeats already went on until
        # the spread no longer mattered (the interval above says when it still did).
        reasons.append(f"std dev {rel:.0%} of the mean")
    return "; ".join(reasons) or None


class _Slot:
    """One cell of a block while it is measured."""

    def __init__(self, spec: CellSpec, strat: Strategy) -> None:
        self.spec = spec
        self.strat = strat
        self.startup_s: float | None = None
        self.times: list[float] = []
        self.serial: list[float] = []
        self.own_cpu = 0.0
        self.worker_pids: set[int] = set()
        self.worker_cpu0: float | None = None
        self.own_peak = meters.OwnPeak()
        self.failure: BaseException | None = None
        self.done = False
        self.closed = False
        self.out: list[Any] | None = None
        self.cell: Cell | None = None

    def half_width(self, paired: bool) -> float | None:
        if len(self.times) < 2:
            return None
        if paired:
            point = stats.speedup(self.serial, self.times)
            return stats.ci_half_width(point, stats.speedup_ci(self.serial, self.times,
                                                               paired=True))
        return stats.ci_half_width(stats.median(self.times), stats.median_ci(self.times))


def measure_block(specs: Sequence[CellSpec], task: Callable[[Any], Any],
                  reference: list[Any] | None, *, precision: Precision, warmup: int,
                  timeout_s: float | None, serial: Strategy | None = None,
                  initializer: Callable[[], None] | None = None,
                  clock: Clock = time.perf_counter, usable_cpus: int | None = None,
                  strategies: dict[str, type[Strategy]] = STRATEGIES,
                  ) -> list[tuple[Cell, list[Any] | None]]:
    """Measure a block of cells of one workload and size together.

    Every cell's workers are started (``startup_s``) and warmed first; then
    rounds run each unfinished cell once, and the serial strategy ``serial``
    once, first in even rounds and last in odd ones (serial, A, B, C, then
    C, B, A, serial: a linear drift cancels). Each cell's speedup pairs its
    runs with the serial runs of the same rounds. A cell leaves the rounds
    when ``precision`` says it is done (its workers are closed then, and the
    time it did not use is left to the others); a cell that fails is torn
    down at once and the others go on. Without ``serial`` nothing is paired
    and the cell's precision is that of its median time.
    """
    usable = usable_cpus or machine.usable_cpus()
    paired = serial is not None
    items = list(range(specs[0].tasks))
    results: dict[CellSpec, tuple[Cell, list[Any] | None]] = {}
    runnable = []
    for spec in specs:
        cls = strategies[spec.strategy]
        available, why = cls.available()
        not_for_this = None if not available else cls.applies_to(task)
        if not available or not_for_this:
            results[spec] = (Cell(status="skipped", error=why or not_for_this,
                                  **cell_fields(spec, strategies)), None)
        else:
            runnable.append(spec)
    base = {s: cell_fields(s, strategies) for s in runnable}

    def checked(result: list[Any]) -> list[Any]:
        if reference is not None and result != reference:
            raise ResultMismatch("results differ from the serial run's")
        return result

    def deadline() -> Deadline:
        return Deadline(timeout_s)

    slots: list[_Slot] = []
    try:
        for spec in runnable:
            before = meters.children()
            cls = strategies[spec.strategy]
            slot = _Slot(spec, cls(spec.workers, spec.start_method, initializer))
            slots.append(slot)
            try:
                t0 = clock()
                slot.strat.start(deadline())
                slot.startup_s = clock() - t0
                for _ in range(warmup):
                    slot.out = checked(slot.strat.map(task, items, deadline()))
            except Exception as exc:
                _fail(slot, exc)
                continue
            slot.worker_pids = (meters.children() - before) | set(slot.strat.pids)
            slot.worker_pids.discard(os.getpid())
            slot.worker_cpu0 = meters.cpu_s_of(slot.worker_pids)
        rule = StoppingRule(precision, len(slots), clock)
        rounds = 0
        while True:
            active = [s for s in slots if not s.done and s.failure is None]
            if not active:
                break
            forward = rounds % 2 == 0
            serial_s = None
            if paired and forward:
                serial_s = _serial_run(serial, task, items, deadline, checked, clock, active)
                if serial_s is None:
                    continue
            for slot in (active if forward else reversed(active)):
                try:
                    slot.own_peak.before_run()
                    c0 = meters.main_cpu_s()
                    t0 = clock()
                    result = slot.strat.map(task, items, deadline())
                    slot.times.append(clock() - t0)
                    slot.own_cpu += meters.main_cpu_s() - c0
                    slot.own_peak.after_run()
                    slot.out = checked(result)
                except Exception as exc:
                    _fail(slot, exc)
            if paired and not forward:
                serial_s = _serial_run(serial, task, items, deadline, checked, clock, active)
                if serial_s is None:
                    continue
            rounds += 1
            for slot in active:
                if slot.failure is not None:
                    continue
                if paired:
                    slot.serial.append(serial_s)  # type: ignore[arg-type]
                if rule.converged(len(slot.times), slot.half_width(paired)):
                    _finish(slot, base[slot.spec], paired, precision, usable)
            if rule.out_of_time(rounds):
                for slot in slots:
                    if not slot.done and slot.failure is None:
                        _finish(slot, base[slot.spec], paired, precision, usable)
    except BaseException:
        for slot in slots:
            if not slot.closed:
                slot.closed = True
                slot.strat.terminate()
        raise
    for slot in slots:
        if slot.failure is not None:
            exc = slot.failure
            status = exc.status if isinstance(exc, CellFailure) else "error"
            text = str(exc) if isinstance(exc, CellFailure) else describe(exc)
            cell = Cell(status=status, error=text, times_s=tuple(slot.times),
                        startup_s=slot.startup_s, **base[slot.spec])
            results[slot.spec] = (cell, None)
        else:
            results[slot.spec] = (slot.cell, slot.out)  # type: ignore[assignment]
    return [results[s] for s in specs]


class SerialRunFailed(CellFailure):
    pass


def _serial_run(serial: Strategy | None, task: Callable[[Any], Any], items: list[int],
                deadline: Callable[[], Deadline], checked: Callable[[list[Any]], list[Any]],
                clock: Clock, active: list[_Slot]) -> float | None:
    """One timed serial run; if it fails, so do the cells it is paired with (None)."""
    assert serial is not None
    try:
        t0 = clock()
        result = serial.map(task, items, deadline())
        elapsed = clock() - t0
        checked(result)
    except Exception as exc:
        text = str(exc) if isinstance(exc, CellFailure) else describe(exc)
        for slot in active:
            if slot.failure is None:
                _fail(slot, SerialRunFailed(f"the serial run interleaved with it failed: {text}"))
        return None
    return elapsed


def _fail(slot: _Slot, exc: BaseException) -> None:
    slot.failure = exc
    slot.done = True
    if not slot.closed:
        slot.closed = True
        slot.strat.terminate()


def _finish(slot: _Slot, base: dict[str, Any], paired: bool, precision: Precision,
            usable: int) -> None:
    """The slot's cell from its runs; its workers measured, then closed."""
    slot.done = True
    n = len(slot.times)
    worker_cpu1 = meters.cpu_s_of(slot.worker_pids)
    peak = meters.tree_peak_bytes(slot.own_peak.peak, slot.worker_pids)
    slot.closed = True
    try:
        slot.strat.close()
    except Exception as exc:  # its runs were fine, but its workers would not stop
        slot.strat.terminate()
        slot.failure = CellFailure(f"closing its workers failed: {describe(exc)}")
        return
    cpu_s = slot.own_cpu
    if slot.worker_pids:
        if slot.worker_cpu0 is None or worker_cpu1 is None:
            cpu_s = None  # no psutil: the workers' share is unknown
        else:
            cpu_s += worker_cpu1 - slot.worker_cpu0
    cpu_s = None if cpu_s is None else cpu_s / n
    wall = statistics.fmean(slot.times)
    util = None if cpu_s is None or wall <= 0 else cpu_s / wall / usable
    rs = stats.rel_std(slot.times)
    fields: dict[str, Any] = {}
    if paired:
        speedup = stats.speedup(slot.serial, slot.times)
        ci = stats.speedup_ci(slot.serial, slot.times, paired=True) if n > 1 else (speedup,) * 2
        hw = stats.ci_half_width(speedup, ci) if n > 1 else None
        fields = dict(serial_times_s=tuple(slot.serial), speedup=speedup, speedup_ci95=ci,
                      efficiency=stats.efficiency(speedup, slot.spec.workers))
    else:
        med = stats.median(slot.times)
        hw = stats.ci_half_width(med, stats.median_ci(slot.times)) if n > 1 else None
    reason = noise_reason(hw, rs, n, precision)
    slot.cell = Cell(status="ok", times_s=tuple(slot.times), median_s=stats.median(slot.times),
                     startup_s=slot.startup_s, cpu_s=cpu_s, rel_std=rs, noisy=reason is not None,
                     noise=reason, ci_half_width=hw, cpu_utilization=util, peak_rss_bytes=peak,
                     gil_enabled_in_workers=slot.strat.gil_in_workers, **fields, **base)


def measure(spec: CellSpec, task: Callable[[Any], Any], reference: list[Any] | None, *,
            repeats: int, warmup: int, timeout_s: float | None,
            initializer: Callable[[], None] | None = None, clock: Clock = time.perf_counter,
            strategies: dict[str, type[Strategy]] = STRATEGIES) -> tuple[Cell, list[Any] | None]:
    """Measure one cell on its own (no interleaved serial runs); return it and the
    task results of its last run."""
    [(cell, out)] = measure_block([spec], task, reference,
                                  precision=Precision.fixed(repeats),
                                  warmup=warmup, timeout_s=timeout_s, initializer=initializer,
                                  clock=clock, strategies=strategies)
    return cell, out


MAX_LIVE_WORKERS = 64  # workers alive at once in one block of cells


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
        clock: Clock = time.perf_counter, skip: Sequence[tuple[Any, ...]] = ()) -> list[Cell]:
    """Run every cell of the plan; ``on_cell`` sees each as it finishes.

    Per workload and size, the serial cell first, then one block per
    strategy and start method (its worker counts measured together, with
    serial runs interleaved). ``skip`` holds the keys of cells already
    measured (a resumed run); they are not run again, but a skipped serial
    cell's results are recomputed when a later cell needs them as a reference.
    """
    cells: list[Cell] = []
    done = set(skip)
    groups: dict[tuple[str, int], list[CellSpec]] = {}
    for s in plan.specs():
        groups.setdefault((s.workload, s.size), []).append(s)

    def report(s: CellSpec, cell: Cell) -> None:
        cells.append(cell)
        if on_cell:
            on_cell(s, cell)

    for (name, size), group in groups.items():
        workload = WORKLOADS[name]
        todo = [s for s in group if (s.workload, s.size, s.strategy, s.start_method,
                                     s.workers) not in done]
        if not todo:
            continue
        missing = missing_requirement(workload)
        if missing:
            for s in todo:
                report(s, Cell(status="skipped", error=f"{name} {missing}", **cell_fields(s)))
            continue
        initializer = single_thread_blas if workload.single_thread_blas else None
        with (workload.setup or no_resource)() as resource, blas_limit(workload):
            task = Task(name, size, resource)
            serial = STRATEGIES["serial"](1, None, None)
            reference = None
            first = group[0]  # the serial cell
            if first in todo:
                [(cell, out)] = measure_block([first], task, None, precision=plan.precision,
                                              warmup=plan.warmup, timeout_s=plan.timeout_s,
                                              clock=clock)
                report(first, cell)
                reference = out if cell.ok else None
            else:
                reference = [task(i) for i in range(first.tasks)]
            for block in blocks_of([s for s in todo if s is not first]):
                measured = measure_block(block, task, reference, precision=plan.precision,
                                         warmup=plan.warmup, timeout_s=plan.timeout_s,
                                         serial=serial if reference is not None else None,
                                         initializer=initializer, clock=clock)
                for s, (cell, _) in zip(block, measured, strict=True):
                    report(s, cell)
    return cells
