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
their ratio; across rounds each CPU takes its turn.

A cell of several workers uses every CPU, so no single CPU's serial run is its fair
baseline: one placed by the OS lands on the slow CPU in some rounds and on a fast one in
others, and the pair is biased either way (a 2-worker cell read 2.02x [1.94-2.08] on 2
CPUs, wholly above the physics, and its consecutive rounds were dependent, p = 0.002).
Its baseline is the round's serial run *at the mean speed of the CPUs*: one serial run
pinned to each CPU (``spread_of``) and the harmonic mean of their times
(``mean_speed_time``): the time at the CPUs' mean speed, so that a cell of k workers that
keeps k CPUs busy reads k whatever each CPU's speed — the only baseline under which the
physics' bound holds exactly. On a machine of more than ``SPREAD`` CPUs a round pins to
``SPREAD`` of them in turn (every CPU as often as the others across rounds), so a round
costs at most ``SPREAD`` serial runs. The run on the round's own CPU is the one the
one-worker cells pair with, so on 2 CPUs a round costs what it cost before (a pinned and
a free serial run).

Linux only (``os.sched_setaffinity``), and only with two usable CPUs or more; elsewhere,
or with ``GILBENCH_PLACEMENT=free``, nothing is pinned and the OS places every run (the
before of the comparison in docs/methodology.md). Each round's CPU is recorded
(``cpus``) so the report can show how fast each CPU ran the serial kernel.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import statistics
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TypeVar

from gilbench.bench.errors import UserError

T = TypeVar("T")

PAIRED, FREE = "paired", "free"
ENV = "GILBENCH_PLACEMENT"
SPREAD = 4  # the most CPUs a round's serial runs for cells of several workers pin to


def mean_speed_time(times: Sequence[float]) -> float:
    """The serial time at the mean speed of the CPUs that ran ``times`` (one run pinned to
    each): their harmonic mean. A CPU's speed is 1/t; at their mean a serial run takes
    len/sum(1/t)."""
    if len(times) == 0 or min(times) <= 0:
        raise ValueError(f"serial times must be positive, got {list(times)}")
    return len(times) / sum(1.0 / float(t) for t in times)


def fastest_first(history: Mapping[int, Sequence[float]], cpus: Sequence[int]
                  ) -> list[int] | None:
    """``cpus`` ordered by how fast each ran the serial kernel in *earlier* rounds (the
    median of its pinned runs; the fastest first, ties in the given order), or None while
    one of them has no earlier run. Ranked on earlier rounds, not on this one's runs, so
    that the run chosen as a baseline is not also chosen for its own luck (the minimum of
    a round's runs would be biased fast by its noise; ``rank_cpus`` orders the first round,
    which has no earlier one, by its own runs)."""
    if any(not history.get(c) for c in cpus):
        return None
    return sorted(cpus, key=lambda c: (statistics.median(history[c]), list(cpus).index(c)))


def rank_cpus(history: Mapping[int, Sequence[float]], runs: Mapping[int, float]
              ) -> list[int]:
    """The CPUs of a round's serial runs, fastest first: by the earlier rounds
    (``fastest_first``), or, in the first round, which has none, by its own runs."""
    cpus = list(runs)
    earlier = fastest_first(history, cpus)
    return earlier if earlier is not None else sorted(cpus, key=lambda c: runs[c])


def baseline_time(runs: Mapping[int, float], ranked: Sequence[int] | None, busy: int | None
                  ) -> float:
    """The round's serial baseline for a cell that can keep ``busy`` CPUs busy (None: no
    limit, every CPU): the serial time at the mean speed of the ``busy`` fastest CPUs of
    the round (``ranked``: ``rank_cpus``), which is every CPU of the round when the cell
    can use them all or no ranking is given. A cell that runs one thing at a time
    (threads that share a GIL, on pure Python) runs where the OS puts its one runnable
    thread: on the CPU no other program is using, the fastest; against the CPUs' *mean*
    speed it would read faster than serial whenever another program loads one CPU (a busy
    loop on CPU 1: GIL-bound threads@2 on fib read 1.05-1.26x, above their 1x ceiling)."""
    if busy is not None and ranked and busy < len(ranked):
        return mean_speed_time([runs[c] for c in ranked[:max(busy, 1)]])
    return mean_speed_time(list(runs.values()))


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
    """Pins a round's serial runs and one-worker cells to CPUs, in turn."""

    def __init__(self, requested: str | None = None) -> None:
        self.cpus = usable() if (requested or mode()) == PAIRED else []
        self.active = len(self.cpus) >= 2
        self._pinned: concurrent.futures.ThreadPoolExecutor | None = None

    def run_on(self, cpu: int | None, fn: Callable[[], T]) -> T:
        """``fn()`` on a helper thread pinned to ``cpu``; with ``cpu`` None, or while
        placement is free, on the calling thread. Its exception is raised here."""
        if not self.active or cpu is None:
            return fn()
        if self._pinned is None:
            self._pinned = concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix="gilbench-pinned-serial")

        def pinned() -> T:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(0, {cpu})  # this (helper) thread only
            return fn()

        return self._pinned.submit(pinned).result()

    def close(self) -> None:
        """Stop the helper thread (after its run, if one is going)."""
        if self._pinned is not None:
            self._pinned.shutdown(wait=True)
        self._pinned = None

    def cpu_of(self, round_no: int) -> int | None:
        """The CPU of a round (None: placement is free)."""
        return self.cpus[round_no % len(self.cpus)] if self.active else None

    def spread_of(self, round_no: int) -> list[int]:
        """The CPUs a round's serial runs are pinned to for the cells of several workers:
        every usable CPU, the round's own first; past ``SPREAD`` CPUs, ``SPREAD`` of them
        from the round's on, so that across rounds each is taken as often (empty: placement
        is free, and the OS places one serial run)."""
        if not self.active:
            return []
        k, start = len(self.cpus), round_no % len(self.cpus)
        return [self.cpus[(start + i) % k] for i in range(min(k, SPREAD))]

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
        # starts inside its run inherits the CPU — and the cell's worker processes.
        _set(_threads() + workers, {cpu})
        try:
            yield
        finally:
            _set(_threads() + workers, set(self.cpus))
