"""The sweep: workloads x strategies x start methods x worker counts.

For each cell the runner starts the strategy's workers (timed separately as
``startup_s``), runs the untimed warm-up, then the timed repeats, each
bracketed by the clock (a parameter, so tests can use a fake one) and by a
CPU-time reading of the whole process tree. Every run's result is checked
equal to the serial run's; the serial cell of each workload always runs
first, since every speedup divides by it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bench import stats
from bench.results import Cell
from bench.strategies import STRATEGIES, CellFailure, Deadline, Strategy, describe
from workloads import WORKLOADS, Task, Workload, no_resource

Clock = Callable[[], float]


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

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Plan:
        """The plan from its JSON form (``dataclasses.asdict``: lists instead of tuples)."""
        lists = ("workloads", "strategies", "workers", "start_methods", "suites")
        return cls(**{**d, **{k: tuple(d[k]) for k in lists if k in d},
                      "sizes": tuple(tuple(x) for x in d["sizes"])})

    @property
    def sweeps(self) -> bool:
        return "speedup" in self.suites

    def size_of(self, workload: str) -> int:
        return dict(self.sizes)[workload]

    def specs(self) -> list[CellSpec]:
        """Cells in run order: per workload, serial first (none without the sweep)."""
        out: list[CellSpec] = []
        if not self.sweeps:
            return out
        others = [s for s in self.strategies if s != "serial"]
        for w in self.workloads:
            size = self.size_of(w)
            out.append(CellSpec(w, "serial", None, 1, size, self.tasks))
            for name in others:
                methods = self.start_methods if STRATEGIES[name].uses_processes else (None,)
                for method in methods:
                    for n in self.workers:
                        out.append(CellSpec(w, name, method, n, size, self.tasks))
        return out


def process_tree_cpu_s() -> float | None:
    """User + system CPU seconds of this process and all its live descendants
    (None without psutil, as in a ``--python`` interpreter that lacks it)."""
    try:
        import psutil
    except ImportError:
        return None
    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += sum(child.cpu_times()[:2])
    return total


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


def measure(spec: CellSpec, task: Callable[[Any], Any], reference: list[Any] | None, *,
            repeats: int, warmup: int, timeout_s: float | None,
            initializer: Callable[[], None] | None = None, clock: Clock = time.perf_counter,
            cpu_meter: Callable[[], float | None] = process_tree_cpu_s,
            strategies: dict[str, type[Strategy]] = STRATEGIES) -> tuple[Cell, list[Any] | None]:
    """Measure one cell; return it and the task results of its last run."""
    cls = strategies[spec.strategy]
    base = cell_fields(spec, strategies)
    available, why = cls.available()
    if not available:
        return Cell(status="skipped", error=why, **base), None
    not_for_this = cls.applies_to(task)
    if not_for_this:
        return Cell(status="skipped", error=not_for_this, **base), None
    items = list(range(spec.tasks))
    deadline = Deadline(timeout_s)
    times: list[float] = []
    cpu_s = None
    startup_s = None
    out = None
    strat = cls(spec.workers, spec.start_method, initializer)

    def checked(result: list[Any]) -> list[Any]:
        if reference is not None and result != reference:
            raise ResultMismatch("results differ from the serial run's")
        return result

    try:
        with strat:
            t0 = clock()
            strat.start(deadline)
            startup_s = clock() - t0
            for _ in range(warmup):
                out = checked(strat.map(task, items, deadline))
            # One CPU reading around all repeats: the meter's own cost stays out
            # of the reading and its 10 ms tick granularity is spread over them.
            c0 = cpu_meter()
            for _ in range(repeats):
                t0 = clock()
                result = strat.map(task, items, deadline)
                times.append(clock() - t0)
                out = checked(result)
            c1 = cpu_meter()
            cpu_s = None if c0 is None or c1 is None else (c1 - c0) / max(1, repeats)
    except CellFailure as exc:
        return Cell(status=exc.status, error=str(exc), times_s=tuple(times),
                    startup_s=startup_s, **base), None
    except Exception as exc:
        return Cell(status="error", error=describe(exc), times_s=tuple(times),
                    startup_s=startup_s, **base), None
    rs = stats.rel_std(times)
    cell = Cell(status="ok", times_s=tuple(times), median_s=stats.median(times),
                startup_s=startup_s, cpu_s=cpu_s, rel_std=rs,
                noisy=rs >= stats.NOISY_REL_STD, gil_enabled_in_workers=strat.gil_in_workers,
                **base)
    return cell, out


def run(plan: Plan, *, on_cell: Callable[[CellSpec, Cell], None] | None = None,
        clock: Clock = time.perf_counter, skip: Sequence[tuple[Any, ...]] = ()) -> list[Cell]:
    """Run every cell of the plan; ``on_cell`` sees each as it finishes.

    ``skip`` holds the keys of cells already measured (a resumed run); they
    are not run again, but a skipped serial cell is still re-run when a later
    cell of its workload needs its results as a reference.
    """
    cells: list[Cell] = []
    specs = plan.specs()
    done = set(skip)
    by_workload: dict[str, list[CellSpec]] = {}
    for s in specs:
        by_workload.setdefault(s.workload, []).append(s)
    for name, wl_specs in by_workload.items():
        workload = WORKLOADS[name]
        todo = [s for s in wl_specs if (s.workload, s.size, s.strategy, s.start_method,
                                        s.workers) not in done]
        if not todo:
            continue
        missing = missing_requirement(workload)
        if missing:
            for s in todo:
                cell = Cell(status="skipped", error=f"{name} {missing}", **cell_fields(s))
                cells.append(cell)
                if on_cell:
                    on_cell(s, cell)
            continue
        initializer = single_thread_blas if workload.single_thread_blas else None
        with (workload.setup or no_resource)() as resource, blas_limit(workload):
            task = Task(name, wl_specs[0].size, resource)
            # The reference results: the serial run's, measured or (resumed) recomputed.
            reference = None
            for s in wl_specs:
                if s not in todo and s.strategy == "serial":
                    reference = [task(i) for i in range(s.tasks)]
            for s in todo:
                cell, out = measure(s, task, reference, repeats=plan.repeats,
                                    warmup=plan.warmup, timeout_s=plan.timeout_s,
                                    initializer=initializer, clock=clock)
                if s.strategy == "serial" and cell.ok:
                    reference = out
                cells.append(cell)
                if on_cell:
                    on_cell(s, cell)
    return cells
