"""Process strategies: the seed article's Process + Queue, Process + Pipe,
Pool.map / imap / apply_async, and ProcessPoolExecutor. Each process has its own
GIL, so CPU-bound Python runs in parallel; tasks and results cross as pickles.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import multiprocessing.connection
import multiprocessing.pool
import queue
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from gilbench.bench.reaper import free_if_dead_holder
from gilbench.bench.strategies.base import (
    JOIN_S,
    CellTimeout,
    Deadline,
    Strategy,
    TaskFailed,
    WorkerDied,
    chunks,
    describe,
    exit_reason,
    init_worker,
    strategy,
)

# ------------------------------------------------------------ worker side
# Module-level so that every start method (spawn and forkserver pickle the
# target by reference) can run them.


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


# ------------------------------------------------------------ processes


class _ProcessStrategy(Strategy):
    """Shared teardown for strategies that own multiprocessing.Process objects."""

    uses_processes = True
    family = "processes"
    per_task_s = 0.0002  # pickling and a pipe
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
        pending: dict[Any, int] = {}
        for conn, part in zip(self._conns, parts, strict=False):
            conn.send((fn, part))
            pending[conn] = len(pending)
        results: list[list[Any]] = [[] for _ in parts]
        while pending:
            ready: list[Any] = multiprocessing.connection.wait(  # our Connections
                list(pending), timeout=deadline.slice())
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


@strategy
class PoolMap(_PoolStrategy):
    """multiprocessing.Pool.map: tasks sent in chunks, results in order. Own GIL per process."""

    name = "pool_map"
    model = "processes"
    family = "pool"

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        return self._wait(self.pool.map_async(fn, items), deadline)


@strategy
class PoolImap(_PoolStrategy):
    """multiprocessing.Pool.imap, consumed with next(timeout=...) as the article does."""

    name = "pool_imap"
    model = "processes"
    family = "pool"

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        it = self.pool.imap(fn, items)
        return self._collect([it.next] * len(items), deadline)


@strategy
class PoolApplyAsync(_PoolStrategy):
    """multiprocessing.Pool.apply_async per task, results read with get(timeout=...)."""

    name = "pool_apply_async"
    model = "processes"
    family = "pool"

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
    family = "pool"

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


