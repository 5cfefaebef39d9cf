"""The newer answers to "threads or processes?", as strategies of the same interface.

- ``subinterpreters``: one subinterpreter per worker, each with its own GIL
  (PEP 684; Python 3.13+), driven by one thread each. Only pure-Python modules
  (and extensions that support it) import inside them: numpy does not.
- ``asyncio``: one event loop in one thread, at most ``workers`` coroutines in
  flight; it applies to the IO kernels (their coroutine variants) only.
- ``loky``: loky's reusable process executor, the pool joblib uses.
- ``dask``: dask.distributed — a LocalCluster of single-threaded worker processes
  on loopback, started and closed by gilbench, or an existing cluster.

loky and Dask are optional (``pip install 'gilbench[loky]'``, ``'gilbench[dask]'``)
and imported only when used; ``gilbench list`` says when one is unavailable and why.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import pickle
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from bench.machine import gil_enabled
from bench.strategies import (
    JOIN_S,
    CellFailure,
    CellTimeout,
    Deadline,
    ProcessPool,
    Strategy,
    TaskFailed,
    WorkerDied,
    chunks,
    describe,
    init_worker,
    strategy,
)


def _missing(module: str, extra: str) -> tuple[bool, str]:
    if importlib.util.find_spec(module) is None:
        return False, f"needs {module}, which is not installed: pip install 'gilbench[{extra}]'"
    return True, ""


CONNECT_S = 30  # Dask: longest wait to start, reach or close a cluster


def _whoami() -> tuple[int, bool]:
    return os.getpid(), gil_enabled()


# ------------------------------------------------------------ subinterpreters


def interpreters_api() -> tuple[Callable[[], Any], Callable[[Any, str], None],
                                Callable[[Any], None]] | None:
    """(create, run, destroy) for subinterpreters with their own GIL, or None."""
    try:
        import _interpreters as mod  # 3.13+ (concurrent.interpreters in 3.14 wraps it)

        def run(interp: Any, code: str) -> None:
            err = mod.exec(interp, code)
            if err is not None:
                raise TaskFailed(f"{err.type.__name__}: {err.msg}")

        return mod.create, run, mod.destroy
    except ImportError:
        pass
    # 3.12 has them too (_xxsubinterpreters), but driving them from threads hung here
    # (Python 3.12.1); gilbench uses the 3.13+ module only.
    return None


@strategy
class Subinterpreters(Strategy):
    """One subinterpreter per worker, each with its own GIL (PEP 684), a thread driving each.

    CPU-bound Python runs in parallel as with processes, inside one process:
    tasks and results cross as pickles. Extensions without subinterpreter
    support (numpy) cannot be imported there, so such kernels fail.
    """

    name = "subinterpreters"
    # A process that forks while subinterpreters live dies in the child (3.13): its
    # cells run alone, never beside a process strategy's.
    shares_rounds = False
    model = "interpreters"

    @classmethod
    def available(cls) -> tuple[bool, str]:
        if interpreters_api() is None:
            return False, (f"needs Python 3.13+ (its _interpreters module: subinterpreters "
                           f"with their own GIL); this is {sys.version.split()[0]}")
        return True, ""

    @classmethod
    def applies_to(cls, task: Any) -> str | None:
        workload = getattr(task, "workload", None)
        from workloads import WORKLOADS

        if workload in WORKLOADS and "numpy" in WORKLOADS[workload].requires:
            return ("not applicable: numpy cannot be imported in a subinterpreter with its own "
                    "GIL (it does not support subinterpreters)")
        return None

    def _create(self) -> None:
        api = interpreters_api()
        assert api is not None
        self._new, self._run, self._destroy = api
        self._folder = tempfile.mkdtemp(prefix="gilbench-interp-")
        self._interps = [self._new() for _ in range(self.workers)]
        self._busy: set[int] = set()

    def _warm(self, deadline: Deadline) -> None:
        # Their own sys.path (the main one may have been changed at run time), and
        # the kernels imported, outside the timed runs.
        code = f"import sys\nsys.path[:] = {sys.path!r}\nimport pickle, workloads\n"
        self._in_each([code] * len(self._interps), deadline)
        self.pids, self.gil_in_workers = [os.getpid()], gil_enabled()

    def _in_each(self, codes: Sequence[str], deadline: Deadline) -> None:
        errors: list[BaseException] = []

        def drive(i: int, code: str) -> None:
            try:
                self._run(self._interps[i], code)
            except BaseException as exc:
                errors.append(exc)
            finally:
                self._busy.discard(i)

        threads = []
        for i, code in enumerate(codes):
            self._busy.add(i)
            t = threading.Thread(target=drive, args=(i, code), daemon=True,
                                 name=f"gilbench-interp-{i}")
            t.start()
            threads.append(t)
        for t in threads:
            while t.is_alive():
                t.join(deadline.slice())
                deadline.check()
        if errors:
            exc = errors[0]
            raise exc if isinstance(exc, CellFailure) else TaskFailed(describe(exc))

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        blob = pickle.dumps(fn)
        parts = chunks(items, self.workers)
        paths = [os.path.join(self._folder, f"part-{i}.pickle") for i in range(len(parts))]
        codes = [
            "import pickle\n"
            f"_fn = pickle.loads({blob!r})\n"
            f"_out = [_fn(x) for x in pickle.loads({pickle.dumps(list(part))!r})]\n"
            f"with open({path!r}, 'wb') as _f:\n"
            "    pickle.dump(_out, _f)\n"
            for part, path in zip(parts, paths, strict=True)]
        self._in_each(codes, deadline)
        out: list[Any] = []
        for path in paths:
            with open(path, "rb") as f:
                out.extend(pickle.load(f))
        return out

    def close(self) -> None:
        for i, interp in enumerate(getattr(self, "_interps", [])):
            if i not in self._busy:  # one still running a hung task cannot be destroyed
                self._destroy(interp)
        if hasattr(self, "_folder"):
            shutil.rmtree(self._folder, ignore_errors=True)


# ------------------------------------------------------------ asyncio


@strategy
class Asyncio(Strategy):
    """asyncio: one event loop in one thread, at most `workers` coroutines in flight.

    Waiting overlaps as with threads, with no thread per task; the loop runs in
    one thread under the GIL, so CPU work is serial (and blocks the loop: CPU
    kernels have no coroutine variant and are reported as not applicable).
    """

    name = "asyncio"
    model = "async"

    @classmethod
    def applies_to(cls, task: Any) -> str | None:
        if getattr(task, "has_async", False):
            return None
        return ("not applicable: asyncio runs coroutines, and this workload has none (CPU "
                "work in a coroutine would block the event loop)")

    def _create(self) -> None:
        self.loop = asyncio.new_event_loop()

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        run_async = getattr(fn, "run_async", None)
        if run_async is None:
            raise CellFailure(self.applies_to(fn) or "not applicable")

        async def main() -> list[Any]:
            gate = asyncio.Semaphore(self.workers)

            async def one(item: Any) -> Any:
                async with gate:
                    return await run_async(item)

            return await asyncio.gather(*(one(i) for i in items))

        try:
            return self.loop.run_until_complete(
                asyncio.wait_for(main(), deadline.remaining()))
        except asyncio.TimeoutError:
            raise CellTimeout(f"the cell ran past its {deadline.seconds:g} s time limit") from None
        except CellFailure:
            raise
        except Exception as exc:
            raise TaskFailed(describe(exc)) from exc

    def close(self) -> None:
        if hasattr(self, "loop") and not self.loop.is_closed():
            self.loop.run_until_complete(self.loop.shutdown_default_executor())
            self.loop.close()


# ------------------------------------------------------------ loky


@strategy
class Loky(ProcessPool):
    """loky's process executor (joblib's pool): fork+exec workers, cloudpickle.

    Own GIL per process; a worker that dies breaks the executor
    (TerminatedWorkerError), which gilbench reports and tears down.
    """

    name = "loky"
    model = "processes"
    uses_processes = False  # loky starts its workers its own way, whatever the start method
    remote_workers = True

    @classmethod
    def available(cls) -> tuple[bool, str]:
        return _missing("loky", "loky")

    def _create(self) -> None:
        from loky import ProcessPoolExecutor

        # A pool of exactly `workers` per cell, not get_reusable_executor's one per
        # process (cells of a block are alive together); a long idle timeout so
        # workers are not recycled between repeats.
        self.executor = ProcessPoolExecutor(max_workers=self.workers, timeout=3600,
                                            initializer=init_worker, initargs=self._initargs())

    def _kill_all(self) -> None:
        # loky's process objects have no kill(): signal them directly.
        for p in getattr(self, "_procs", []):
            if p.is_alive():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p.pid, signal.SIGKILL)
        for p in getattr(self, "_procs", []):
            p.join(JOIN_S)

    def terminate(self) -> None:
        if hasattr(self, "executor"):
            self._procs = list(getattr(self.executor, "_processes", {}).values()) or getattr(
                self, "_procs", [])
            self._kill_all()
            self.executor.shutdown(wait=True, kill_workers=True)
        self._kill_all()


# ------------------------------------------------------------ Dask


@strategy
class Dask(Strategy):
    """dask.distributed: a LocalCluster of single-threaded worker processes on loopback.

    Tasks and results are pickled and travel over TCP through the scheduler:
    the most overhead per task, and the one answer here that also spans
    machines (``--dask-scheduler ADDRESS`` uses an existing cluster).
    """

    name = "dask"
    model = "processes"
    remote_workers = True
    shares_rounds = False  # idle Dask workers and schedulers heartbeat
    scheduler: ClassVar[str | None] = None  # set by --dask-scheduler

    @classmethod
    def available(cls) -> tuple[bool, str]:
        return _missing("distributed", "dask")

    def _create(self) -> None:
        from distributed import Client, LocalCluster

        if self.scheduler:
            self.client = Client(self.scheduler, timeout=CONNECT_S)
            return
        self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                    processes=True, host="127.0.0.1", dashboard_address=None,
                                    silence_logs=logging.ERROR, timeout=CONNECT_S)
        self.client = Client(self.cluster, timeout=CONNECT_S)

    def _warm(self, deadline: Deadline) -> None:
        if not self.scheduler:
            self.client.wait_for_workers(self.workers, timeout=deadline.remaining())
        if self.initializer is not None:
            self.client.run(self.initializer)
        found = self.client.run(_whoami)
        self.pids = sorted(pid for pid, _ in found.values())
        self.gil_in_workers = all(gil for _, gil in found.values())

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        from distributed import wait

        futures = self.client.map(fn, list(items), pure=False)
        try:
            wait(futures, timeout=deadline.remaining())
        except TimeoutError:
            self.client.cancel(futures)
            raise CellTimeout(f"the cell ran past its {deadline.seconds:g} s time limit"
                              ) from None
        try:
            return self.client.gather(futures)
        except Exception as exc:
            if type(exc).__name__ == "KilledWorker":
                raise WorkerDied(describe(exc)) from exc
            raise TaskFailed(describe(exc)) from exc

    def close(self) -> None:
        if hasattr(self, "client"):
            self.client.close(timeout=CONNECT_S)
        if hasattr(self, "cluster"):
            self.cluster.close(timeout=CONNECT_S)
