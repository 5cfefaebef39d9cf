"""Where a round's runs execute: both runs of a pair on the same CPU.

A cell's speedup is the median of ``serial_i / cell_i`` over rounds. The serial run
executes on gilbench's main thread and a one-worker cell's work on another thread or
process, and the OS places the two as it likes. When one vCPU is slower than the other
for minutes (this project's noisy phases), the OS may keep the serial run on the slow
one and the worker on the fast one: the pair is then *biased*, not noisy, and neither
interleaving nor more pairs remove it (a one-worker cell came out 1.63x "faster" than
serial on pure Python that way). ``tests/coverage.py``'s slow phases on one side of the
pairs show the interval's coverage falling to 0.78-0.92 under such placement.

``Placement`` removes the asymmetry at its source. In round r it runs a serial run on a
helper thread pinned to CPU r mod k of the k usable CPUs, and pins gilbench's threads (the
main one included, so that threads a cell starts inside its run inherit the CPU) and the
workers of every one-worker cell to the same CPU for their runs, releasing them
afterwards. Both runs of a pair then share a CPU, so a slow CPU slows both and cancels in
their ratio; across rounds each CPU takes its turn. The round's other serial run, which
the cells of several workers pair with (they use every CPU), runs on a second helper
thread that is never pinned: the OS places it, as before — a serial run pinned to a slow
CPU would bias those cells the other way, and a thread once pinned stays near its CPU.

Linux only (``os.sched_setaffinity``), and only with two usable CPUs or more; elsewhere,
or with ``GILBENCH_PLACEMENT=free``, nothing is pinned and the OS places every run (the
before of the comparison in docs/methodology.md). Each round's CPU is recorded
(``cpus``) so the report can show how fast each CPU ran the serial kernel.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from bench.errors import UserError

T = TypeVar("T")

PAIRED, FREE = "paired", "free"
ENV = "GILBENCH_PLACEMENT"


def mode() -> str:
    """The placement asked for: paired (the default) or free (``GILBENCH_PLACEMENT``);
    any other value is a ``UserError`` (``gilbench run`` checks it before it starts)."""
    value = os.environ.get(ENV, "").strip().lower() or PAIRED
    if value not in (PAIRED, FREE):
        raise UserError(f"{ENV}={os.environ[ENV]!r} is not a placement: give {PAIRED} (the "
                        f"default: each pair's runs on one CPU) or {FREE} (the OS places them)")
    return value


def usable() -> list[int]:
    """The CPUs this process may run on (empty where the platform cannot pin)."""
    if not hasattr(os, "sched_getaffinity") or not hasattr(os, "sched_setaffinity"):
        return []
    return sorted(os.sched_getaffinity(0))


def _threads() -> list[int]:
    """The ids of this process's threads (Linux: /proc/self/task)."""
    try:
        return [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        return []


def _set(ids: Iterable[int], cpus: set[int]) -> None:
    for tid in ids:
        with contextlib.suppress(OSError):  # a thread or worker that ended meanwhile
            os.sched_setaffinity(tid, cpus)


class Placement:
    """Pins a round's serial run and one-worker cells to one CPU, in turn."""

    def __init__(self, requested: str | None = None) -> None:
        self.cpus = usable() if (requested or mode()) == PAIRED else []
        self.active = len(self.cpus) >= 2
        self._pinned: concurrent.futures.ThreadPoolExecutor | None = None
        self._free: concurrent.futures.ThreadPoolExecutor | None = None
        self._free_tid: int | None = None

    def run_on(self, cpu: int | None, fn: Callable[[], T]) -> T:
        """``fn()`` on a helper thread pinned to ``cpu``; with ``cpu`` None, on a helper
        thread that is never pinned (the OS places it) while placement is paired, or on
        the calling thread while it is free. Its exception is raised here."""
        if not self.active:
            return fn()
        if cpu is None:
            if self._free is None:
                self._free = concurrent.futures.ThreadPoolExecutor(
                    1, thread_name_prefix="gilbench-free-serial")
                self._free_tid = self._free.submit(threading.get_native_id).result()
            return self._free.submit(fn).result()
        if self._pinned is None:
            self._pinned = concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix="gilbench-pinned-serial")

        def pinned() -> T:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(0, {cpu})  # this (helper) thread only
            return fn()

        return self._pinned.submit(pinned).result()

    def close(self) -> None:
        """Stop the helper threads (after their run, if one is going)."""
        for pool in (self._pinned, self._free):
            if pool is not None:
                pool.shutdown(wait=True)
        self._pinned = self._free = None
        self._free_tid = None

    def cpu_of(self, round_no: int) -> int | None:
        """The CPU of a round (None: placement is free)."""
        return self.cpus[round_no % len(self.cpus)] if self.active else None

    @contextlib.contextmanager
    def on(self, cpu: int | None, pids: Iterable[int] = ()) -> Iterator[None]:
        """gilbench's threads (and these worker processes) on ``cpu`` inside the block,
        back on every usable CPU after it, whatever happens inside."""
        if cpu is None:
            yield
            return
        own = os.getpid()
        workers = [p for p in pids if p != own]
        # Every thread of gilbench's process — the main one too, so that a thread the cell
        # starts inside its run inherits the CPU — but the free serial run's helper, and
        # the cell's worker processes.
        _set([t for t in _threads() if t != self._free_tid] + workers, {cpu})
        try:
            yield
        finally:
            _set([t for t in _threads() if t != self._free_tid] + workers, set(self.cpus))
