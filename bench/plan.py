"""What a run measures: the ``Plan``, as the data model holds it.

The CLI builds and validates a plan (``bench.options``); the runner expands it into cells
(``bench.runner.expand.specs``, which needs the kernels' cost models and the strategies);
a results file, a ``--python`` run's ``interpreters.json`` and the plan a remote
interpreter is sent all carry it in one JSON form, written by ``Plan.to_dict`` and read
back by ``Plan.from_dict``. Everything here is data: reading a plan loads no kernel and
no strategy.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

CellKey = tuple[str, int, str, str | None, int]  # workload, size, strategy, method, workers


@dataclass(frozen=True)
class Precision:
    """When a cell has been repeated enough.

    Each cell repeats until the 99% interval of its speedup is within
    ``target`` of it (relative half-width; see ``STOP_CONFIDENCE``), but at least
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


@dataclass(frozen=True)
class CellSpec:
    """One cell a plan asks for (``Cell`` is what measuring it gives)."""

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


# Fields whose JSON form is a list of pairs or a list, made tuples again when read.
_PAIRS = ("sizes", "calibrated", "granularity", "addresses")
_LISTS = ("workloads", "strategies", "workers", "start_methods", "suites", "size_factors",
          "workloads_from", "granularity_strategies")


@dataclass(frozen=True)
class Plan:
    """Everything a sweep needs; built (and validated) by the CLI."""

    profile: str
    workloads: tuple[str, ...]
    strategies: tuple[str, ...]
    workers: tuple[int, ...]
    # The process start methods to run (--start-method); none given: each interpreter's
    # own default (``bench.runner.expand.methods_here``), as a user's program meets it.
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
    # The granularity suite's points (bench.runner.granularity): (workload, size, tasks,
    # one task's time at that size as calibrated before the run), and the worker count
    # every strategy runs them at (the usable CPUs).
    granularity: tuple[tuple[str, int, int, float], ...] = ()
    granularity_workers: int = 0
    # The granularity sweep's strategies when they differ from the speedup sweep's (the
    # default run leaves Ray out of the speedup sweep, not out of this one).
    granularity_strategies: tuple[str, ...] = ()
    # Existing clusters the run uses instead of starting its own: (strategy, address), from
    # the strategy's own option (``Strategy.takes_address``: --dask-scheduler,
    # --ray-address); handed to each of its cells, in a resumed run and in every --python
    # interpreter too.
    addresses: tuple[tuple[str, str], ...] = ()

    @property
    def precision(self) -> Precision:
        return Precision(self.repeats, max(self.repeats, self.max_repeats), self.target_ci,
                         self.cell_budget_s)

    @property
    def sweeps(self) -> bool:
        """Whether cells are measured: the speedup sweep, the granularity sweep or both."""
        return "speedup" in self.suites or "granularity" in self.suites

    def granularity_points(self, workload: str) -> list[tuple[int, int, float]]:
        """The workload's granularity points: (size, tasks, calibrated task time)."""
        return [(size, tasks, t) for w, size, tasks, t in self.granularity if w == workload]

    def address_of(self, strategy: str) -> str | None:
        """The existing cluster the strategy's cells use (None: they start their own)."""
        return dict(self.addresses).get(strategy)

    def size_of(self, workload: str) -> int:
        return dict(self.sizes)[workload]

    def to_dict(self) -> dict[str, Any]:
        """The plan's JSON form: the one way it is written (results.json's ``run.plan``,
        interpreters.json, the plan sent to another interpreter)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Plan:
        """The plan from its JSON form. Keys this gilbench does not know (a newer one's)
        are left out; a missing required one is a TypeError."""
        known = {f.name for f in dataclasses.fields(cls)}
        out = {k: v for k, v in d.items() if k in known}
        out.update({k: tuple(out[k]) for k in _LISTS if k in out})
        out.update({k: tuple(tuple(x) for x in out[k]) for k in _PAIRS if k in out})
        return cls(**out)
