"""Execution strategies: the ways a Python program can spread tasks over workers.

Each strategy wraps the standard library's own executor or primitive (the
seed article's Process + Queue, Process + Pipe, Pool.map / imap /
apply_async, and their modern cousins) and does not re-implement it. They
share one small interface, used as a context manager::

    with STRATEGIES["pool_map"](workers=4, start_method="fork") as s:
        s.start(deadline)                      # create and warm the workers
        results = s.map(task, items, deadline)  # one timed run

Every blocking call waits in short slices against a deadline and checks that
the workers it started are alive, so a hung task or a killed worker ends the
call with an error instead of hanging (plain ``multiprocessing.Pool`` waits
forever for a task whose worker was killed). On error the context manager
tears the workers down; on success it closes and joins them. No zombie is
left either way.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import multiprocessing
import multiprocessing.connection
import multiprocessing.pool
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any, ClassVar

from bench.machine import gil_enabled

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


# ------------------------------------------------------------ worker side
# Module-level so that every start method (spawn and forkserver pickle the
# target by reference) can run them.


def _ping(delay_s: float, _item: object = None) -> tuple[int, bool]:
    time.sleep(delay_s)
    return os.getpid(), gil_enabled()


def _watch_parent(parent: int) -> None:
    # A worker whose parent was killed (SIGKILL gives no chance to clean up)
    # is re-parented; it then exits by itself instead of waiting forever on a
    # queue as an orphan.
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(1)


def init_worker(initializer: Callable[[], None] | None = None) -> None:
    """Runs first in every worker process."""
    # Ctrl-C reaches the whole process group; the parent decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The parent as it is now: gilbench, or (forkserver) the fork server, which
    # itself exits when gilbench does.
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    if initializer is not None:
        initializer()


def _queue_worker(tasks: Any, results: Any, initializer: Callable[[], None] | None) -> None:
    init_worker(initializer)
    while (msg := tasks.get()) is not None:
        seq, fn, item = msg
        try:
            results.put((seq, True, fn(item)))
        except Exception as exc:
            results.put((seq, False, describe(exc)))


def _pipe_worker(conn: Any, initializer: Callable[[], None] | None) -> None:
    init_worker(initializer)
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        fn, items = msg
        try:
            conn.send((True, [fn(item) for item in items]))
        except Exception as exc:
            conn.send((False, describe(exc)))


# ------------------------------------------------------------ the interface


class Strategy:
    """Run tasks on ``workers`` workers. Subclasses say when the GIL limits them."""

    name: ClassVar[str]
    model: ClassVar[str]  # "serial" | "threads" | "processes" | "interpreters" | "async"
    uses_processes: ClassVar[bool] = False  # one cell per multiprocessing start method
    remote_workers: ClassVar[bool] = False  # workers outside this process (pinged when warm)
    # Whether its workers may sit idle, alive, while other cells of the same
    # block run (their idle workers must not take CPU time).
    shares_rounds: ClassVar[bool] = True

    def __init__(self, workers: int = 1, start_method: str | None = None,
                 initializer: Callable[[], None] | None = None) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self.start_method = start_method if self.uses_processes else None
        self.initializer = initializer
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
        self._create()
        self._warm(deadline)

    def _create(self) -> None:
        pass

    def _warm(self, deadline: Deadline) -> None:
        if not (self.uses_processes or self.remote_workers):  # the work runs in this process
            self.pids, self.gil_in_workers = [os.getpid()], gil_enabled()
            return
        pids: set[int] = set()
        gils: set[bool] = set()
        ping = functools.partial(_ping, 0.001)
        while True:
            for pid, gil in self.map(ping, range(2 * self.workers), deadline):
                pids.add(pid)
                gils.add(gil)
            if len(pids) >= self.workers:
                break
            deadline.check("starting the workers")
        self.pids = sorted(pids)
        self.gil_in_workers = all(gils)

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
        if exc_type is None:
            self.close()
        else:
            self.terminate()

    # -- helpers for process strategies
    def _context(self) -> multiprocessing.context.BaseContext:
        return multiprocessing.get_context(self.start_method)

    def _initargs(self) -> tuple[Any, ...]:
        return (self.initializer,)


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


# ------------------------------------------------------------ serial and threads


@strategy
class Serial(Strategy):
    """One task after another in the main thread: the baseline every speedup divides."""

    name = "serial"
    model = "serial"

    def __init__(self, workers: int = 1, start_method: str | None = None,
                 initializer: Callable[[], None] | None = None) -> None:
        super().__init__(1, start_method, initializer)

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        out = []
        for item in items:
            deadline.check()
            out.append(fn(item))
        deadline.check()  # a task cannot be interrupted in this thread: judge it when it returns
        return out


@strategy
class Threads(Strategy):
    """A threading.Thread per worker, each given a slice; the GIL serialises Python code.

    The threads are started and joined inside every run, as this pattern does;
    starting a thread costs tens of microseconds. Only one thread runs Python
    bytecode at a time, so CPU-bound Python gets no faster; waiting and native
    code that releases the GIL run in parallel.
    """

    name = "threads"
    model = "threads"

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        parts = chunks(items, self.workers)
        results: list[list[Any] | None] = [None] * len(parts)
        errors: list[BaseException] = []

        def work(i: int, part: Sequence[Any]) -> None:
            try:
                results[i] = [fn(item) for item in part]
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i, p), daemon=True)
                   for i, p in enumerate(parts)]
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(deadline.slice())
                deadline.check()
        if errors:
            raise TaskFailed(describe(errors[0])) from errors[0]
        return [r for part in results for r in part]  # type: ignore[union-attr]


@strategy
class ThreadPool(Strategy):
    """concurrent.futures.ThreadPoolExecutor.map; the GIL serialises Python code.

    Same physics as ``threads``, with the pool's threads started once outside
    the timed runs and tasks handed out one at a time.
    """

    name = "thread_pool"
    model = "threads"

    def _create(self) -> None:
        self.executor = concurrent.futures.ThreadPoolExecutor(
            self.workers, thread_name_prefix="gilbench")

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        try:
            return list(self.executor.map(fn, items, timeout=deadline.remaining()))
        except concurrent.futures.TimeoutError:
            deadline.check()
            raise CellTimeout("a task ran past the time limit") from None

    def close(self) -> None:
        if hasattr(self, "executor"):
            self.executor.shutdown(wait=True)

    def terminate(self) -> None:
        # A thread cannot be killed: cancel what has not started and move on.
        if hasattr(self, "executor"):
            self.executor.shutdown(wait=False, cancel_futures=True)


# ------------------------------------------------------------ processes


class _ProcessStrategy(Strategy):
    """Shared teardown for strategies that own multiprocessing.Process objects."""

    uses_processes = True
    _procs: list[Any]

    def _check_alive(self) -> None:
        for p in getattr(self, "_procs", []):
            if not p.is_alive():
                raise WorkerDied(f"worker process {p.pid} {exit_reason(p.exitcode)}")

    def _kill_all(self) -> None:
        for p in getattr(self, "_procs", []):
            if p.is_alive():
                p.kill()
        for p in getattr(self, "_procs", []):
            p.join(JOIN_S)

    def _join_all(self) -> None:
        for p in getattr(self, "_procs", []):
            p.join(JOIN_S)
        self._kill_all()  # anything still alive after JOIN_S


@strategy
class ProcessQueue(_ProcessStrategy):
    """multiprocessing.Process workers fed and drained through two multiprocessing.Queues.

    Each task and result is pickled and sent through a pipe by a feeder thread.
    Each process has its own GIL, so CPU-bound Python runs in parallel.
    """

    name = "process_queue"
    model = "processes"

    def _create(self) -> None:
        ctx = self._context()
        self._tasks = ctx.Queue()
        self._results = ctx.Queue()
        self._procs = [
            ctx.Process(target=_queue_worker, name=f"gilbench-queue-{i}", daemon=True,
                        args=(self._tasks, self._results, *self._initargs()))
            for i in range(self.workers)
        ]
        for p in self._procs:
            p.start()

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        for seq, item in enumerate(items):
            self._tasks.put((seq, fn, item))
        out: list[Any] = [None] * len(items)
        for _ in range(len(items)):
            while True:
                try:
                    seq, ok, value = self._results.get(timeout=deadline.slice())
                    break
                except queue.Empty:
                    self._check_alive()
                    deadline.check()
            if not ok:
                raise TaskFailed(value)
            out[seq] = value
        return out

    def _close_queues(self, cancel: bool) -> None:
        for q in (getattr(self, "_tasks", None), getattr(self, "_results", None)):
            if q is not None:
                if cancel:
                    q.cancel_join_thread()
                q.close()
                q.join_thread()

    def close(self) -> None:
        for _ in getattr(self, "_procs", []):
            self._tasks.put(None)
        self._join_all()
        self._close_queues(cancel=False)

    def terminate(self) -> None:
        self._kill_all()
        self._close_queues(cancel=True)


@strategy
class ProcessPipe(_ProcessStrategy):
    """multiprocessing.Process workers, each sent one slice of the tasks over its own Pipe.

    One message each way per worker per run: the least IPC of the process
    strategies. Each process has its own GIL.
    """

    name = "process_pipe"
    model = "processes"

    def _create(self) -> None:
        ctx = self._context()
        self._conns = []
        self._procs = []
        for i in range(self.workers):
            parent_conn, child_conn = ctx.Pipe(duplex=True)
            p = ctx.Process(target=_pipe_worker, name=f"gilbench-pipe-{i}", daemon=True,
                            args=(child_conn, *self._initargs()))
            p.start()
            child_conn.close()
            self._conns.append(parent_conn)
            self._procs.append(p)

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        parts = chunks(items, self.workers)
        pending = {}
        for conn, part in zip(self._conns, parts, strict=False):
            conn.send((fn, part))
            pending[conn] = len(pending)
        results: list[list[Any]] = [[] for _ in parts]
        while pending:
            ready = multiprocessing.connection.wait(list(pending), timeout=deadline.slice())
            for conn in ready:
                try:
                    ok, value = conn.recv()
                except EOFError:
                    # The pipe closes as the worker dies; wait for it to be reaped.
                    proc = self._procs[self._conns.index(conn)]
                    proc.join(JOIN_S)
                    raise WorkerDied(f"worker process {proc.pid} {exit_reason(proc.exitcode)}"
                                     ) from None
                if not ok:
                    raise TaskFailed(value)
                results[pending.pop(conn)] = value
            if pending:
                self._check_alive()
                deadline.check()
        return [r for part in results for r in part]

    def close(self) -> None:
        for conn in getattr(self, "_conns", []):
            with contextlib.suppress(OSError):
                conn.send(None)
        self._join_all()
        for conn in getattr(self, "_conns", []):
            conn.close()

    def terminate(self) -> None:
        self._kill_all()
        for conn in getattr(self, "_conns", []):
            conn.close()


class _PoolStrategy(_ProcessStrategy):
    """multiprocessing.Pool, created once per cell outside the timed runs."""

    def _create(self) -> None:
        self.pool = self._context().Pool(self.workers, initializer=init_worker,
                                         initargs=self._initargs())
        # The pool replaces a dead worker silently and the lost task's result
        # never arrives; watching the original workers turns that into an error.
        self._procs = list(self.pool._pool)

    def _wait(self, result: multiprocessing.pool.AsyncResult, deadline: Deadline) -> Any:
        # A worker killed while the pool sat idle (between runs) was replaced
        # silently: say so rather than time a pool that is not the one started.
        self._check_alive()
        while not result.ready():
            result.wait(deadline.slice())
            if not result.ready():
                self._check_alive()
                deadline.check()
        return result.get()

    def _collect(self, getters: Sequence[Callable[..., Any]], deadline: Deadline) -> list[Any]:
        """Call each ``get(timeout=...)`` in turn, in slices, watching the workers."""
        self._check_alive()
        out = []
        for get in getters:
            while True:
                try:
                    out.append(get(timeout=deadline.slice()))
                    break
                except multiprocessing.TimeoutError:
                    self._check_alive()
                    deadline.check()
        return out

    def close(self) -> None:
        if hasattr(self, "pool"):
            self.pool.close()
            self.pool.join()

    def terminate(self) -> None:
        if hasattr(self, "pool"):
            pool = self.pool
            # A worker killed while holding one of the pool's queue locks never
            # releases it: an idle worker holds the task queue's read lock while it
            # waits, a busy one the result queue's write lock while it sends. Then
            # Pool.terminate() (which drains the task queue and posts sentinels under
            # those locks) waits forever. So: no more replacement workers, every
            # worker killed and reaped, any lock a dead worker still holds freed,
            # and only then terminate().
            pool._worker_handler._state = multiprocessing.pool.TERMINATE
            for _ in range(3):  # a replacement may have been started meanwhile
                self._procs = list(pool._pool)
                self._kill_all()
                if not any(p.is_alive() for p in pool._pool):
                    break
            for q in (pool._outqueue, pool._inqueue):
                for lock in (getattr(q, "_wlock", None), q._rlock):
                    free_if_dead_holder(lock)
            pool.terminate()
            pool.join()
        self._kill_all()


LOCK_HELD_S = 0.5  # far longer than any living holder keeps a pool's queue lock


def free_if_dead_holder(lock: Any) -> None:
    """Release a pool queue lock if a dead worker holds it (every worker is dead).

    The pool's own threads take these locks only for the instant of a put, so
    a lock still taken after LOCK_HELD_S has a dead holder: it is released on
    its behalf. A free lock is taken and given back.
    """
    if lock is None:
        return
    lock.acquire(timeout=LOCK_HELD_S)
    with contextlib.suppress(ValueError):  # cannot happen: it is held, by us or the dead
        lock.release()


@strategy
class PoolMap(_PoolStrategy):
    """multiprocessing.Pool.map: tasks sent in chunks, results in order. Own GIL per process."""

    name = "pool_map"
    model = "processes"

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        return self._wait(self.pool.map_async(fn, items), deadline)


@strategy
class PoolImap(_PoolStrategy):
    """multiprocessing.Pool.imap, consumed with next(timeout=...) as the article does."""

    name = "pool_imap"
    model = "processes"

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        it = self.pool.imap(fn, items)
        return self._collect([it.next] * len(items), deadline)


@strategy
class PoolApplyAsync(_PoolStrategy):
    """multiprocessing.Pool.apply_async per task, results read with get(timeout=...)."""

    name = "pool_apply_async"
    model = "processes"

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        pending = [self.pool.apply_async(fn, (item,)) for item in items]
        return self._collect([r.get for r in pending], deadline)


@strategy
class ProcessPool(_ProcessStrategy):
    """concurrent.futures.ProcessPoolExecutor.map; own GIL per process.

    Unlike multiprocessing.Pool it notices a killed worker by itself
    (BrokenProcessPool).
    """

    name = "process_pool"
    model = "processes"

    def _create(self) -> None:
        self.executor = concurrent.futures.ProcessPoolExecutor(
            self.workers, mp_context=self._context(), initializer=init_worker,
            initargs=self._initargs())

    def _warm(self, deadline: Deadline) -> None:
        super()._warm(deadline)
        self._procs = list(self.executor._processes.values())

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        try:
            return list(self.executor.map(fn, items, timeout=deadline.remaining()))
        except concurrent.futures.TimeoutError:
            raise CellTimeout(f"the cell ran past its {deadline.seconds:g} s time limit") from None
        except BrokenProcessPool as exc:
            raise WorkerDied(self._culprit() or describe(exc)) from exc

    def _culprit(self) -> str | None:
        """Which worker broke the pool. The executor SIGTERMs the others when one
        dies, so the culprit is the one that ended any other way."""
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            dead = [p for p in self._procs if not p.is_alive()]
            culprits = [p for p in dead if p.exitcode != -signal.SIGTERM]
            if culprits:
                p = culprits[0]
                return f"worker process {p.pid} {exit_reason(p.exitcode)}"
            if len(dead) == len(self._procs):
                break
            time.sleep(0.02)
        return None

    def close(self) -> None:
        if hasattr(self, "executor"):
            self.executor.shutdown(wait=True)

    def terminate(self) -> None:
        if hasattr(self, "executor"):
            self._procs = list(getattr(self.executor, "_processes", {}).values()) or getattr(
                self, "_procs", [])
            for p in self._procs:
                if p.is_alive():
                    p.kill()
            self.executor.shutdown(wait=True, cancel_futures=True)
        self._kill_all()


# The newer answers (subinterpreters, asyncio, loky, Dask) register themselves.
from bench import modern  # noqa: E402,F401
