"""Start-up costs measured in a bare interpreter: ``python -m gilbench.bench.startprobe ARGS_JSON``.

spawn and forkserver children import the parent's main module before they
run anything, so a worker's start-up depends on what that module imports
(gilbench's own command imports numpy and matplotlib). The startup suite
therefore measures in this small program, whose main module imports only
the standard library and psutil — what a minimal script pays. It prints one
JSON object per measurement, as it finishes.

It imports nothing of gilbench but ``bench.stats``, ``bench.signals`` and
``bench.reaper``, which need only the standard library (the probe is its own main
module, re-imported by every spawned child). That is why it lives beside them and not
in ``bench/suites/``: importing that package too would add to the start-up it measures.

It runs in a session of its own, so a terminal's Ctrl-C never lands in the middle of a
worker's start; gilbench stops it with one SIGINT instead. That SIGINT only *asks*: the
probe stops at the next of its checks (``_check``, every 50 ms at most while it waits),
never in the middle of ``multiprocessing``'s own code — a KeyboardInterrupt raised between
creating a named semaphore and registering it, or between spawning a child and recording
it, leaks the one in ``/dev/shm`` and orphans the other half-way through ``spawn_main``.
It then terminates and joins what it had started, stops its resource tracker and fork
server, and exits (130).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from typing import Any

from gilbench.bench import stats
from gilbench.bench.reaper import reap_children, stop_myself, watch_parent
from gilbench.bench.signals import install_stop_handlers

JOIN_S = 5.0
WAIT_S = 0.05  # the longest a wait goes without a _check
_MEETING: Any = None
_STOP = threading.Event()  # gilbench asked the probe to stop (a SIGINT, SIGTERM or SIGHUP)


def _noop() -> None:
    pass


def _pool_init(arrived: Any, go: Any) -> None:
    global _MEETING
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch_parent()  # orphaned (the probe was killed, or stopped while this started): exit
    _MEETING = (arrived, go)


def _meet(_i: int) -> int:
    # Say "here", then hold this worker until all have said it: N tasks can only
    # all arrive on N distinct, running workers. (A multiprocessing.Barrier would
    # do, but hangs under forkserver on CPython 3.11.)
    arrived, go = _MEETING
    arrived.release()
    go.wait(30)
    return os.getpid()


def _summary(times: list[float]) -> dict[str, Any]:
    return {"median_s": stats.median(times), "p99_s": stats.percentile(times, 99),
            "median_ci95_s": stats.median_interval(times),
            "p99_ci95_s": stats.quantile_interval(times, 0.99),  # (start-up: rarely 370)
            "min_s": min(times), "repeats": len(times)}


class TimedOut(Exception):
    pass


def _check(end: float, what: str) -> None:
    """The points where the probe may stop: asked to (KeyboardInterrupt, which the
    ``try`` around every pool and process turns into terminating and joining it), or out
    of time."""
    if _STOP.is_set():
        raise KeyboardInterrupt
    if time.monotonic() > end:
        raise TimedOut(f"{what} ran past its time limit")


def _asked_to_stop(_signum: int, _frame: object) -> None:
    # A forked worker gets SIGTERM and SIGHUP back at their default before it can see
    # one (install_stop_handlers' fork hooks), so only the probe itself is asked here.
    _STOP.set()


def start_join_thread(repeats: int, end: float) -> dict[str, Any]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        t = threading.Thread(target=_noop)
        t.start()
        t.join()
        times.append(time.perf_counter() - t0)
        _check(end, "starting threads")
    return {"what": "start_join", "model": "threads", **_summary(times)}


def start_join_process(method: str, repeats: int, end: float) -> dict[str, Any]:
    ctx: Any = multiprocessing.get_context(method)  # typeshed: BaseContext has no Process
    times = []
    for _ in range(repeats):
        _check(end, f"starting a {method} process")
        p = ctx.Process(target=_noop, daemon=True)
        t0 = time.perf_counter()
        p.start()
        try:
            while p.is_alive():
                p.join(WAIT_S)
                _check(end, f"starting a {method} process")
        finally:
            if p.is_alive():
                p.kill()
                p.join(JOIN_S)
        times.append(time.perf_counter() - t0)
        if p.exitcode != 0:
            raise RuntimeError(f"the {method} process ended with exit code {p.exitcode}")
    return {"what": "start_join", "model": "processes", "start_method": method,
            **_summary(times)}


class NotHere(Exception):
    """This interpreter cannot make the measurement (the entry says why: skipped)."""


def _interpreters() -> tuple[Any, Any]:
    """(create, close) of a subinterpreter with its own GIL: the public
    concurrent.interpreters (3.14+), else the private _interpreters (3.13). The same choice
    as ``bench.strategies.subinterpreters.interpreters_api``, made here again because the
    probe imports nothing of the strategies (their imports would be in every start-up it
    measures)."""
    try:
        from concurrent import interpreters  # type: ignore[attr-defined]

        return interpreters.create, lambda interp: interp.close()
    except ImportError:
        pass
    try:
        import _interpreters

        return _interpreters.create, _interpreters.destroy
    except ImportError:
        raise NotHere(f"needs Python 3.13+ (subinterpreters with their own GIL); this is "
                      f"{sys.version.split()[0]}") from None


def start_join_interpreter(repeats: int, end: float) -> dict[str, Any]:
    """Create a subinterpreter with its own GIL and close it again: what each worker of
    ``subinterpreters`` costs before it imports anything."""
    create, close = _interpreters()
    times = []
    for _ in range(repeats):
        _check(end, "creating a subinterpreter")
        t0 = time.perf_counter()
        close(create())
        times.append(time.perf_counter() - t0)
    return {"what": "start_join", "model": "interpreters", **_summary(times)}


def pool_interpreters(workers: int, repeats: int, end: float) -> dict[str, Any]:
    """An InterpreterPoolExecutor of ``workers`` created until every worker has run a
    task, then shut down. It creates a worker (a thread and its interpreter) for each
    task submitted while none is idle: ``workers`` tasks submitted at once, microseconds
    apart, meet no idle worker (an interpreter takes milliseconds to create), and the
    pool's thread count is checked."""
    make = getattr(concurrent.futures, "InterpreterPoolExecutor", None)
    if make is None:
        raise NotHere("needs Python 3.14+ (concurrent.futures.InterpreterPoolExecutor); "
                      f"this is {sys.version.split()[0]}")
    times, stops = [], []
    for _ in range(repeats):
        _check(end, f"creating a pool of {workers} interpreters")
        t0 = time.perf_counter()
        ex = make(workers)
        try:
            futures = [ex.submit(int) for _ in range(workers)]  # int(): a no-op by reference
            while concurrent.futures.wait(futures, timeout=WAIT_S).not_done:
                _check(end, f"creating a pool of {workers} interpreters")
            times.append(time.perf_counter() - t0)
            made = len(ex._threads)
            if made != workers:
                raise RuntimeError(f"the pool made {made} of {workers} workers")
            t1 = time.perf_counter()
            ex.shutdown(wait=True)
            stops.append(time.perf_counter() - t1)
        finally:
            ex.shutdown(wait=False, cancel_futures=True)
    return {"what": "pool", "model": "interpreters", "workers": workers, **_summary(times),
            "stop_s": stats.median(stops)}


def _memory(pids: list[int]) -> dict[str, float]:
    import psutil

    uss, pss = [], []
    for pid in pids:
        with contextlib.suppress(psutil.Error, AttributeError):
            info = psutil.Process(pid).memory_full_info()
            uss.append(info.uss)
            if hasattr(info, "pss"):
                pss.append(info.pss)
    out = {}
    if uss:
        out["uss_bytes"] = stats.median(uss)
    if pss:
        out["pss_bytes"] = stats.median(pss)
    return out


def pool_processes(method: str, workers: int, repeats: int, end: float,
                   measure_memory: bool) -> dict[str, Any]:
    ctx = multiprocessing.get_context(method)
    times, stops = [], []
    memory: dict[str, float] = {}
    for i in range(repeats):
        _check(end, f"creating a {method} pool of {workers}")
        arrived, go = ctx.Semaphore(0), ctx.Event()
        t0 = time.perf_counter()
        pool = ctx.Pool(workers, initializer=_pool_init, initargs=(arrived, go))
        try:
            result = pool.map_async(_meet, range(workers), chunksize=1)
            for _ in range(workers):
                while not arrived.acquire(timeout=WAIT_S):
                    _check(end, f"creating a {method} pool of {workers}")
            times.append(time.perf_counter() - t0)
            go.set()
            pids = sorted(set(result.get(JOIN_S)))
            if measure_memory and i == 0:
                memory = _memory(pids)
            t1 = time.perf_counter()
            pool.close()
            pool.join()
            stops.append(time.perf_counter() - t1)
        except BaseException:
            pool.terminate()
            pool.join()
            raise
    return {"what": "pool", "model": "processes", "start_method": method, "workers": workers,
            **_summary(times), "stop_s": stats.median(stops), **memory}


def pool_threads(workers: int, repeats: int, end: float, measure_memory: bool) -> dict[str, Any]:
    import psutil

    me = psutil.Process()
    times, stops = [], []
    memory: dict[str, float] = {}
    for i in range(repeats):
        _check(end, f"creating a pool of {workers} threads")
        barrier = threading.Barrier(workers)
        before = me.memory_full_info().uss if measure_memory and i == 0 else None
        t0 = time.perf_counter()
        ex = concurrent.futures.ThreadPoolExecutor(workers)
        try:
            futures = [ex.submit(barrier.wait, 30) for _ in range(workers)]
            while concurrent.futures.wait(futures, timeout=WAIT_S).not_done:
                _check(end, f"creating a pool of {workers} threads")
            times.append(time.perf_counter() - t0)
            if before is not None:
                memory = {"uss_bytes": max(0.0, (me.memory_full_info().uss - before) / workers)}
            t1 = time.perf_counter()
            ex.shutdown(wait=True)
            stops.append(time.perf_counter() - t1)
        finally:
            barrier.abort()
            ex.shutdown(wait=False, cancel_futures=True)
    return {"what": "pool", "model": "threads", "workers": workers, **_summary(times),
            "stop_s": stats.median(stops), **memory}


def main(args: dict[str, Any]) -> int:
    """Every measurement, one JSON line each. gilbench stops the probe with a SIGINT
    (``bench.reaper.stop_helper``): what is running then is terminated and joined, and
    the probe's own helpers are stopped before it exits (130)."""
    install_stop_handlers()  # SIGXFSZ ignored, as gilbench has it ...
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _asked_to_stop)  # ... but a stop waits for a _check
    watch_parent(stop_myself)  # gilbench was killed: stop as if it had asked
    try:
        measure(args)
    except KeyboardInterrupt:
        return 130
    finally:
        reap_children()
    return 0


def measure(args: dict[str, Any]) -> None:
    repeats, timeout_s = args["repeats"], args["timeout_s"]
    methods, workers = args["start_methods"], args["workers"]
    top = max(workers)
    jobs: list[tuple[dict[str, Any], Any]] = [
        ({"what": "start_join", "model": "threads"},
         lambda end: start_join_thread(repeats * 10, end))]
    for m in methods:
        jobs.append(({"what": "start_join", "model": "processes", "start_method": m},
                     lambda end, m=m: start_join_process(m, repeats, end)))
    jobs.append(({"what": "start_join", "model": "interpreters"},
                 lambda end: start_join_interpreter(repeats, end)))
    for n in workers:
        jobs.append(({"what": "pool", "model": "interpreters", "workers": n},
                     lambda end, n=n: pool_interpreters(n, max(2, repeats // 2), end)))
        jobs.append(({"what": "pool", "model": "threads", "workers": n},
                     lambda end, n=n: pool_threads(n, repeats, end, n == top)))
        for m in methods:
            jobs.append(({"what": "pool", "model": "processes", "start_method": m, "workers": n},
                         lambda end, m=m, n=n: pool_processes(m, n, max(2, repeats // 2), end,
                                                              n == top)))
    for fields, job in jobs:
        if _STOP.is_set():
            raise KeyboardInterrupt
        try:
            out = job(time.monotonic() + timeout_s)
        except TimedOut as exc:
            out = {**fields, "status": "timeout", "error": str(exc)}
        except NotHere as exc:
            out = {**fields, "status": "skipped", "error": str(exc)}
        except Exception as exc:
            out = {**fields, "status": "error", "error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
