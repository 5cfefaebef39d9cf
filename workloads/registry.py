"""The registry of kernels: ``Workload``, ``WORKLOADS`` and the ``@workload`` decorator,
``Task`` (a workload at a size, what strategies run) and the kinds of work.

It imports nothing of gilbench's, so the kernel modules import it and the package
``workloads`` imports them without a cycle.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

KINDS = ("cpu", "native", "io")
KIND_TITLES = {
    "cpu": "CPU-bound pure Python (holds the GIL)",
    "native": "CPU-bound native code (releases the GIL)",
    "io": "IO-bound (waits with the GIL released)",
}
# The same kinds where the interpreter runs without a GIL (a free-threaded build, PEP 703):
# nothing holds or releases a GIL there, and threads can run Python code in parallel.
KIND_TITLES_NO_GIL = {
    "cpu": "CPU-bound pure Python (no GIL in this interpreter)",
    "native": "CPU-bound native code (no GIL in this interpreter)",
    "io": "IO-bound (waits; no GIL in this interpreter)",
}


def kind_title(kind: str, gil: bool = True) -> str:
    """A kind's title as it holds for an interpreter with (or without) the GIL."""
    return (KIND_TITLES if gil else KIND_TITLES_NO_GIL).get(kind, kind)


# Work that only CPUs do: no strategy can beat serial by more than the CPUs it runs
# on (io waits, and overlaps beyond the CPU count).
CPU_BOUND_KINDS = ("cpu", "native")


def speedup_ceiling(kind: str, workers: int, usable_cpus: int) -> float | None:
    """The most speedup the physics allows ``workers`` on this kind of work (None: no
    such limit): the workers, and the usable CPUs where known (0: unknown)."""
    if kind not in CPU_BOUND_KINDS:
        return None
    return float(min(workers, usable_cpus) if usable_cpus else workers)


PROFILE_NAMES = ("smoke", "quick", "standard", "full")  # sizes per bench.profiles.PROFILES


@dataclass(frozen=True)
class Workload:
    """One kernel and what the harness needs to know about it."""

    name: str
    kind: str
    releases_gil: bool
    description: str
    func: Callable[..., Any]
    sizes: dict[str, int]
    size_unit: str
    # Context manager factory run once around all cells of the workload in the
    # main process; what it yields is passed to every task as ``resource``.
    setup: Callable[[], contextlib.AbstractContextManager[Any]] | None = None
    # Hold BLAS to one thread in every process that runs this kernel, so that
    # the parallelism measured is gilbench's, not the BLAS library's.
    single_thread_blas: bool = False
    requires: tuple[str, ...] = field(default=())
    # The same kernel as a coroutine, for asyncio; only IO kernels have one
    # (CPU work in a coroutine would block the event loop).
    async_func: Callable[..., Any] | None = None
    # How the cost of one task grows with its size: cost ∝ size ** cost_power
    # ("linear", the default, is 1), or "exponential" with base cost_base.
    cost_power: float = 1.0
    cost_base: float | None = None

    def size_for(self, profile: str) -> int:
        return self.sizes[profile]

    def scaled(self, size: int, factor: float) -> int:
        """The size whose task costs about ``factor`` times a task of ``size``
        (at least 1: some kernels cannot be made any smaller)."""
        if factor == 1:
            return size
        if self.cost_base is not None:  # cost ∝ base ** size
            return max(1, size + round(math.log(factor) / math.log(self.cost_base)))
        return max(1, round(size * factor ** (1 / self.cost_power)))

    def cost_ratio(self, size: int, base: int) -> float:
        """How much a task of ``size`` costs relative to one of ``base``."""
        if self.cost_base is not None:
            return float(self.cost_base ** (size - base))
        return float((size / base) ** self.cost_power)


WORKLOADS: dict[str, Workload] = {}


def workload(
    *,
    kind: str,
    releases_gil: bool,
    sizes: dict[str, int],
    size_unit: str,
    setup: Callable[[], contextlib.AbstractContextManager[Any]] | None = None,
    single_thread_blas: bool = False,
    requires: tuple[str, ...] = (),
    cost_power: float = 1.0,
    cost_base: float | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a kernel; its docstring's first line is its description."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    missing = set(PROFILE_NAMES) - set(sizes)
    if missing:
        raise ValueError(f"sizes lacks profiles {sorted(missing)}")

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        name = func.__name__
        if name in WORKLOADS:
            raise ValueError(f"workload {name!r} registered twice")
        doc = (func.__doc__ or "").strip().splitlines()
        WORKLOADS[name] = Workload(
            name=name,
            kind=kind,
            releases_gil=releases_gil,
            description=doc[0] if doc else name,
            func=func,
            sizes=dict(sizes),
            size_unit=size_unit,
            setup=setup,
            single_thread_blas=single_thread_blas,
            requires=requires,
            cost_power=cost_power,
            cost_base=cost_base,
        )
        return func

    return register


@contextlib.contextmanager
def no_resource() -> Iterator[None]:
    yield None


def async_variant(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a coroutine function as the asyncio variant of workload ``name``."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        WORKLOADS[name] = dataclasses.replace(WORKLOADS[name], async_func=func)
        return func

    return register


def call_kernel(func: Callable[..., Any], size: int, resource: Any, seed: int) -> Any:
    """Run one task. Module-level so that ``functools.partial`` of it pickles."""
    if resource is None:
        return func(size, seed)
    return func(size, seed, resource)


@dataclass(frozen=True)
class Task:
    """One workload at one size, called with a seed: what strategies run.

    Pickles by name (every start method, subinterpreters, Dask), and offers the
    kernel's coroutine when it has one (``run_async``).
    """

    workload: str
    size: int
    resource: Any = None

    def __call__(self, seed: int) -> Any:
        return call_kernel(WORKLOADS[self.workload].func, self.size, self.resource, seed)

    @property
    def has_async(self) -> bool:
        return WORKLOADS[self.workload].async_func is not None

    async def run_async(self, seed: int) -> Any:
        func = WORKLOADS[self.workload].async_func
        if func is None:
            raise TypeError(f"{self.workload} has no async variant")
        if self.resource is None:
            return await func(self.size, seed)
        return await func(self.size, seed, self.resource)
