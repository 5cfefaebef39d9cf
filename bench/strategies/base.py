"""The shared vocabulary of every strategy: the interface, its registry, deadlines
and the ways a cell fails.

A strategy runs a workload's tasks on ``workers`` workers through one small
interface, used as a context manager::

    with STRATEGIES["pool_map"](workers=4, start_method="fork") as s:
        s.start(deadline)                      # create and warm the workers
        results = s.map(task, items, deadline)  # one timed run

Every blocking call waits in short slices against a ``Deadline`` and checks that
the workers it started are alive, so a hung task or a killed worker ends the
call with a ``CellFailure`` instead of hanging. On error the context manager
tears the workers down (``terminate``); on success it closes and joins them
(``close``). No zombie is left either way.

This module imports nothing from the strategies themselves; each of them
imports only this module (``loky`` also builds on ``processes``).
"""

from __future__ import annotations

import functools
import importlib.util
import multiprocessing
import multiprocessing.context
import os
import signal
import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from gilbench.bench.machine import gil_enabled
from gilbench.bench.reaper import watch_parent
from gilbench.bench.signals import children_ignore_ctrl_c, ctrl_c_deferred
from gilbench.bench.strategyfacts import StrategyFacts

# typeshed types multiprocessing.context.BaseContext without Process, Queue, Pipe
# (only the concrete contexts have them); every context here comes from get_context.
MpContext = Any

POLL_S = 0.05  # how often a waiting call checks worker health and the deadline
JOIN_S = 5.0  # how long a graceful close waits for a worker before killing it


class CellFailure(Exception):
    """A run of the cell failed; ``status`` says how (``error`` or ``timeout``)."""

    status = "error"


class CellTimeout(CellFailure):
    status = "timeout"


class WorkerDied(CellFailure):
    pass


class TaskFailed(CellFailure):
    pass


class Deadline:
    """A point on the monotonic clock that waits are measured against."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._end = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float | None:
        return None if self._end is None else max(0.0, self._end - time.monotonic())

    def slice(self) -> float:
        """How long the next wait may block: a poll slice, never past the end."""
        left = self.remaining()
        return POLL_S if left is None else min(POLL_S, left)

    def check(self, what: str = "the cell") -> None:
        if self._end is not None and time.monotonic() >= self._end:
            raise CellTimeout(f"{what} ran past its {self.seconds:g} s time limit")


def describe(exc: BaseException) -> str:
    """One line for a results file: the exception type and message."""
    text = str(exc).strip().splitlines()
    if not text and isinstance(exc, MemoryError):  # Python gives it no message
        text = ["out of memory"]
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def exit_reason(exitcode: int | None) -> str:
    if exitcode is None:
        return "is gone"
    if exitcode < 0:
        try:
            return f"was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"was killed by signal {-exitcode}"
    return f"exited with code {exitcode}"


def missing_module(module: str, extra: str) -> tuple[bool, str]:
    """``available()`` of a strategy that needs an optional module."""
    if importlib.util.find_spec(module) is None:
        return False, f"needs {module}, which is not installed: pip install 'gilbench[{extra}]'"
    return True, ""


# ------------------------------------------------------------ worker side
# Module-level so that every start method (spawn and forkserver pickle the
# target by reference) can run them.


def _ping(delay_s: float, _item: object = None) -> tuple[int, bool]:
    time.sleep(delay_s)
    return os.getpid(), gil_enabled()


def init_worker(initializer: Callable[[], None] | None = None) -> None:
    """Runs first in every worker process."""
    # Ctrl-C reaches the whole process group; the parent decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A worker whose parent was killed (SIGKILL gives no chance to clean up), or
    # that was orphaned while it started, exits by itself.
    watch_parent()
    if initializer is not None:
        initializer()


# ------------------------------------------------------------ the interface


class Strategy:
    """Run tasks on ``workers`` workers. Subclasses say when the GIL limits them."""

    name: ClassVar[str]
    model: ClassVar[str]  # "serial" | "threads" | "processes" | "interpreters" | "async"
    uses_processes: ClassVar[bool] = False  # one cell per multiprocessing start method
    remote_workers: ClassVar[bool] = False  # workers outside this process (pinged when warm)
    # Whether a cell of it starts a cluster of its own processes, taking seconds (Dask,
    # Ray): the pytest path keeps one for every benchmark with the same workers.
    starts_a_cluster: ClassVar[bool] = False
    # Whether it runs the tasks in the calling thread (serial): a task that never returns
    # there cannot be stopped by its deadline, so callers watch it (``bench.watchdog``).
    in_this_thread: ClassVar[bool] = False
    # Whether its workers may sit idle, alive, while other cells of the same
    # block run (their idle workers must not take CPU time).
    shares_rounds: ClassVar[bool] = True
    # What a cell of it costs to start beyond its worker processes (a cluster, a pool
    # that fork+execs its workers), in seconds: the run's estimate adds it per cell.
    extra_start_s: ClassVar[float] = 0.0
    # Where it runs, in words, for `gilbench list` (``available()`` says whether it runs here).
    runs_on: ClassVar[str] = "every Python"
    # What kind of executor it is (``bench.strategyfacts.FAMILIES``): the engines (loky,
    # Dask, Ray) are set against process_pool in the granularity analysis.
    family: ClassVar[str]
    # Whether the speedup sweep runs it when --strategies names none (Ray: only when named).
    in_default_sweep: ClassVar[bool] = True
    # Whether its driver runs in a host process of its own (``apart.Apart``).
    runs_apart: ClassVar[bool] = False
    # What a task sent to one of its workers costs beyond the task, in seconds (pickling,
    # a pipe, a scheduler's bookkeeping; the 2-CPU VM): the granularity sweep's estimate.
    per_task_s: ClassVar[float] = 0.0
    # The command-line option that names an existing cluster for it (``--dask-scheduler``):
    # the run's plan carries the address (``Plan.addresses``) and hands it to each cell
    # (``address``), so --resume and --python use it too; None: it takes no address.
    takes_address: ClassVar[str | None] = None
    address_example: ClassVar[str] = ""  # for --help: what such an address looks like

    @classmethod
    def facts(cls) -> StrategyFacts:
        """Its facts, as a run writes them into results.json for the analysis to read."""
        return StrategyFacts(model=cls.model, family=cls.family,
                             in_default_sweep=cls.in_default_sweep, runs_apart=cls.runs_apart,
                             starts_a_cluster=cls.starts_a_cluster, per_task_s=cls.per_task_s,
                             extra_start_s=cls.extra_start_s)

    @classmethod
    def describe_cluster(cls, address: str) -> dict[str, Any]:
        """The cluster at ``address``, for the machine record (``<name>_cluster``), or a
        UserError that says why it cannot be used: a strategy that ``takes_address``
        implements it."""
        raise NotImplementedError(f"{cls.name} takes no address")

    def __init__(self, workers: int = 1, start_method: str | None = None,
                 initializer: Callable[[], None] | None = None,
                 address: str | None = None) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self.start_method = start_method if self.uses_processes else None
        self.initializer = initializer
        self.address = address if self.takes_address else None
        self.pids: list[int] = []
        self.gil_in_workers: bool | None = None

    @classmethod
    def available(cls) -> tuple[bool, str]:
        """Whether this interpreter can run the strategy, and why not."""
        return True, ""

    @classmethod
    def applies_to(cls, task: Any) -> str | None:
        """Why this strategy cannot run this task (None: it can)."""
        return None

    @classmethod
    def description(cls) -> str:
        return (cls.__doc__ or cls.name).strip().splitlines()[0]

    # -- lifecycle
    def start(self, deadline: Deadline) -> None:
        """Create the workers and wait until every one of them has answered."""
        with children_ignore_ctrl_c():  # pools may start workers lazily, on first use
            self._create()
            self._warm(deadline)

    def _create(self) -> None:
        pass

    def _warm(self, deadline: Deadline) -> None:
        if not (self.uses_processes or self.remote_workers):  # the work runs in this process
            self.pids, self.gil_in_workers = [os.getpid()], gil_enabled()
            return
        found = self._ping_every_worker(deadline)
        self.pids = sorted(found)
        self.gil_in_workers = any(found.values())

    def _ping_every_worker(self, deadline: Deadline) -> dict[int, bool]:
        """Every worker's pid and whether the GIL is on in it (asked until all answered)."""
        found: dict[int, bool] = {}
        ping = functools.partial(_ping, 0.001)
        while True:
            for pid, gil in self.map(ping, range(2 * self.workers), deadline):
                found[pid] = found.get(pid, False) or gil
            if len(found) >= self.workers:
                return found
            deadline.check("asking the workers")

    def gil_now(self, deadline: Deadline) -> bool:
        """Whether the GIL is on now in any worker. On a free-threaded build it can come
        back on while a cell runs: an extension module without free-threading support
        turns it on, for good, in the process that imports it."""
        if not (self.uses_processes or self.remote_workers):
            return gil_enabled()
        return any(self._ping_every_worker(deadline).values())

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        raise NotImplementedError

    def close(self) -> None:
        """Graceful shutdown after success: every worker joined."""

    def terminate(self) -> None:
        """Forceful shutdown after a failure or an interrupt: nothing left behind."""
        self.close()

    def __enter__(self) -> Strategy:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        with ctrl_c_deferred():  # closed whole, whatever the user presses meanwhile
            if exc_type is None:
                self.close()
            else:
                self.terminate()

    # -- helpers for process strategies
    def _context(self) -> MpContext:
        return multiprocessing.get_context(self.start_method)

    def _initargs(self) -> tuple[Any, ...]:
        return (self.initializer,)


class ThreadExecutorStrategy(Strategy):
    """A strategy over an executor whose workers are threads of this process
    (``ThreadPoolExecutor``, ``InterpreterPoolExecutor``), kept in ``self.executor``: its
    graceful and forceful shutdown."""

    executor: Any

    def close(self) -> None:
        if hasattr(self, "executor"):
            self.executor.shutdown(wait=True)

    def terminate(self) -> None:
        # A thread cannot be killed: cancel what has not started and move on.
        if hasattr(self, "executor"):
            self.executor.shutdown(wait=False, cancel_futures=True)


STRATEGIES: dict[str, type[Strategy]] = {}


def strategy(cls: type[Strategy]) -> type[Strategy]:
    """Register a strategy class under its ``name``."""
    if cls.name in STRATEGIES:
        raise ValueError(f"strategy {cls.name!r} registered twice")
    STRATEGIES[cls.name] = cls
    return cls


def chunks(items: Sequence[Any], n: int) -> list[Sequence[Any]]:
    """Split into at most ``n`` contiguous, nearly equal, non-empty slices."""
    n = max(1, min(n, len(items)))
    size, extra = divmod(len(items), n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return out


