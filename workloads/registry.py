"""The registry of kernels: ``Workload``, ``WORKLOADS`` and the ``@workload`` decorator,
``Task`` (a workload at a size, what strategies run) and the kinds of work.

It imports nothing of gilbench's but the kinds' vocabulary (``bench.kinds``, on the data
floor), so the kernel modules import it and the package ``workloads`` imports them
without a cycle.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import importlib.util
import math
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The kinds' vocabulary is the data floor's (bench.kinds): the analysis and the report
# read it without importing a kernel. The package re-exports it, where kernels are written.
from gilbench.bench.kinds import KINDS, RELEASES_GIL_BY_KIND
from gilbench.bench.profiles import PROFILES

PROFILE_NAMES = tuple(PROFILES)  # a kernel has a size for each profile


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
    # Where a kernel from outside gilbench was defined: (module name, file or None), so
    # that a worker that lacks it (spawn, forkserver, a subinterpreter, a Dask worker)
    # imports the same code before it runs a task. None: one of gilbench's own.
    origin: tuple[str, str | None] | None = None

    @property
    def calibrated(self) -> bool:
        """No sizes given: gilbench calibrates one per profile (``workloads.user``)."""
        return not self.sizes

    def size_for(self, profile: str) -> int:
        if profile not in self.sizes:
            raise KeyError(f"{self.name} has no size for {profile!r}: it is calibrated "
                           "(workloads.user.calibrate)")
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


class DuplicateWorkload(ValueError):
    """A second kernel under a name already registered."""


def workload(
    *,
    kind: str,
    releases_gil: bool | None = None,
    sizes: dict[str, int] | None = None,
    size_unit: str = "",
    setup: Callable[[], contextlib.AbstractContextManager[Any]] | None = None,
    single_thread_blas: bool = False,
    requires: tuple[str, ...] = (),
    cost_power: float = 1.0,
    cost_base: float | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a kernel: ``@workload(kind="cpu")`` on a module-level function.

    The contract (docs/user-workloads.md says more):

    - **Signature** ``kernel(size: int, seed: int)``, or ``kernel(size, seed, resource)``
      with ``setup``: ``size`` sets how much work one task does (the same for every
      task), ``seed`` is the task's index (0, 1, 2 ...): tasks differ in their data, not
      in their cost. The kernel's name is the function's name; its docstring's first
      line is its description.
    - **Deterministic**: the same (size, seed) returns an equal value, in any process
      and under any strategy; gilbench checks each strategy's results against the
      serial run's. Draw random numbers from ``random.Random(seed)``, not the global one.
    - **Picklable**: the result goes back from worker processes by pickle, and the
      function is found again by module and name there, so define it with ``def`` at
      the top level of a module (not a lambda, not inside a function, not under
      ``if __name__ == "__main__":``). Never time itself: gilbench owns the clock.

    ``kind``: one of ``KINDS`` ("cpu" pure Python, "native" code that releases the GIL,
    "io" waiting, "mixed" waiting then Python work). ``sizes``: a size per profile
    (``PROFILE_NAMES``: all of them), or None to let gilbench calibrate one per profile
    on the machine from the cost model (``cost_power``: a task's cost grows as
    ``size ** cost_power``; ``cost_base``: as ``cost_base ** size``). ``size_unit`` names
    what a size counts. ``setup``: a context-manager factory run once in gilbench's
    process around the workload's cells; what it yields (picklable: it goes to every
    worker) is the kernel's ``resource``. ``requires``: modules the kernel imports,
    so a missing one skips its cells with the reason. ``releases_gil``: whether the
    kernel's work runs with the GIL released (native code, waiting); by default what its
    kind says (``RELEASES_GIL_BY_KIND``: "native" and "io" do, "cpu" and "mixed" hold it).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if sizes is not None:
        missing = set(PROFILE_NAMES) - set(sizes)
        if missing:
            raise ValueError(f"sizes lacks profiles {sorted(missing)} (give a size for each "
                             f"of {', '.join(PROFILE_NAMES)}, or none to calibrate)")
        bad = {p: v for p, v in sizes.items() if not isinstance(v, int) or v < 1}
        if bad:
            raise ValueError(f"sizes must be positive whole numbers, not {bad}")

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        name = getattr(func, "__name__", repr(func))
        origin = origin_of(func)
        if name in WORKLOADS:
            before = WORKLOADS[name].origin
            if before is None:
                raise DuplicateWorkload(f"kernel {name!r} clashes with gilbench's built-in "
                                        "kernel of that name (registered twice); rename the "
                                        "function")
            raise DuplicateWorkload(f"kernel {name!r} registered twice (already by "
                             f"{before[1] or before[0]}); rename one of the functions")
        doc = (func.__doc__ or "").strip().splitlines()
        WORKLOADS[name] = Workload(
            name=name,
            kind=kind,
            releases_gil=RELEASES_GIL_BY_KIND[kind] if releases_gil is None else releases_gil,
            description=doc[0] if doc else name,
            func=func,
            sizes=dict(sizes or {}),
            size_unit=size_unit,
            setup=setup,
            single_thread_blas=single_thread_blas,
            requires=requires,
            cost_power=cost_power,
            cost_base=cost_base,
            origin=origin,
        )
        return func

    return register


def origin_of(func: Callable[..., Any]) -> tuple[str, str | None] | None:
    """Where a kernel was defined: None for gilbench's own, else (module, its file)."""
    module = getattr(func, "__module__", None) or "__main__"
    if module == "gilbench.workloads" or module.startswith("gilbench.workloads."):
        return None
    return module, getattr(sys.modules.get(module), "__file__", None)


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

    def __reduce__(self) -> tuple[Any, ...]:
        # With the kernel's origin, so that a process that lacks the kernel (a user's
        # kernel under spawn, in a subinterpreter, on a Dask worker) imports it first.
        # The origin comes first in the pickle, so the import happens before the resource
        # is unpickled (it may be an object of a class the user's module defines).
        w = WORKLOADS.get(self.workload)
        return (_task, (_Origin(self.workload, w.origin if w else None), self.workload,
                        self.size, self.resource))

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


def import_file(path: Path, name: str) -> None:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path}: not a Python file gilbench can import (give a .py "
                          "file or a module name)")
    module = importlib.util.module_from_spec(spec)
    # Its own folder on the path, as `python FILE` has it: its sibling imports work.
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.append(folder)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise


def import_origin(origin: tuple[str, str | None]) -> None:
    """Import the module a kernel came from, in a process that lacks it (a worker)."""
    name, file = origin
    if name in sys.modules:
        return
    try:
        importlib.import_module(name)
        return
    except ImportError:
        if file is None:
            raise
    import_file(Path(file), name)


@dataclass(frozen=True)
class _Origin:
    """Pickles as "import the kernel's module here, if this process lacks the kernel"."""

    workload: str
    origin: tuple[str, str | None] | None

    def __reduce__(self) -> tuple[Any, ...]:
        return (_imported, (self.workload, self.origin))


def _imported(workload: str, origin: tuple[str, str | None] | None) -> None:
    if workload not in WORKLOADS and origin is not None:
        import_origin(origin)


def _task(_origin: None, workload: str, size: int, resource: Any) -> Task:
    return Task(workload, size, resource)
