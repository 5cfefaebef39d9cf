"""Start-up costs measured in a bare interpreter: ``python -m bench.startprobe ARGS_JSON``.

spawn and forkserver children import the parent's main module before they
run anything, so a worker's start-up depends on what that module imports
(gilbench's own command imports numpy and matplotlib). The startup suite
therefore measures in this small program, whose main module imports only
the standard library and psutil — what a minimal script pays. It prints one
JSON object per measurement, as it finishes.

It imports nothing of gilbench but ``bench.stats``, which needs only the standard
library (the probe is its own main module, re-imported by every spawned child). That
is why it lives beside ``bench.stats`` and not in ``bench/suites/``: importing that
package too would add to the start-up it measures.
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

from bench import stats

JOIN_S = 5.0
_MEETING: Any = None


def _noop() -> None:
    pass


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)  # orphaned: the probe was killed


def _pool_init(arrived: Any, go: Any) -> None:
    global _MEETING
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch, args=(os.getppid(),), daemon=True).start()
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
            "min_s": min(times), "repeats": len(times)}


class TimedOut(Exception):
    pass


def _check(end: float, what: str) -> None:
    if time.monotonic() > end:
        raise TimedOut(f"{what} ran past its time limit")


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
        p = ctx.Process(target=_noop, daemon=True)
        t0 = time.perf_counter()
        p.start()
        try:
            while p.is_alive():
                p.join(0.05)
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
        arrived, go = ctx.Semaphore(0), ctx.Event()
        t0 = time.perf_counter()
        pool = ctx.Pool(workers, initializer=_pool_init, initargs=(arrived, go))
        try:
            result = pool.map_async(_meet, range(workers), chunksize=1)
            for _ in range(workers):
                while not arrived.acquire(timeout=0.05):
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
        barrier = threading.Barrier(workers)
        before = me.memory_full_info().uss if measure_memory and i == 0 else None
        t0 = time.perf_counter()
        ex = concurrent.futures.ThreadPoolExecutor(workers)
        try:
            futures = [ex.submit(barrier.wait, 30) for _ in range(workers)]
            done, _ = concurrent.futures.wait(futures, timeout=max(0.0, end - time.monotonic()))
            if len(done) < len(futures):
                raise TimedOut(f"creating a pool of {workers} threads ran past its time limit")
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


def main(args: dict[str, Any]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; it kills us if needed
    repeats, timeout_s = args["repeats"], args["timeout_s"]
    methods, workers = args["start_methods"], args["workers"]
    top = max(workers)
    jobs: list[tuple[dict[str, Any], Any]] = [
        ({"what": "start_join", "model": "threads"},
         lambda end: start_join_thread(repeats * 10, end))]
    for m in methods:
        jobs.append(({"what": "start_join", "model": "processes", "start_method": m},
                     lambda end, m=m: start_join_process(m, repeats, end)))
    for n in workers:
        jobs.append(({"what": "pool", "model": "threads", "workers": n},
                     lambda end, n=n: pool_threads(n, repeats, end, n == top)))
        for m in methods:
            jobs.append(({"what": "pool", "model": "processes", "start_method": m, "workers": n},
                         lambda end, m=m, n=n: pool_processes(m, n, max(2, repeats // 2), end,
                                                              n == top)))
    for fields, job in jobs:
        try:
            out = job(time.monotonic() + timeout_s)
        except TimedOut as exc:
            out = {**fields, "status": "timeout", "error": str(exc)}
        except Exception as exc:
            out = {**fields, "status": "error", "error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
