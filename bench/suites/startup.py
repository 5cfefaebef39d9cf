"""startup: what a worker costs before it does any work, and the article's lifecycle claims.

Measured in a bare interpreter (``bench.startprobe``, whose main module a
spawn/forkserver child re-imports cheaply, as a small script's would be):

- start and join one worker (a thread; a process per start method);
- create a pool of N and wait until every worker has run a task (a barrier
  all N must reach), then close and join it; memory per worker (USS: pages only
  it uses; PSS: its share of shared pages, via psutil) while the pool is alive.

Checked in gilbench's own process:

- zombie: a child that exited and was not joined is observed as a zombie, and
  join() reaps it; no_zombies: gilbench's own process strategies leave none,
  after success and after a worker dies;
- get_timeout: ``apply_async(time.sleep, ...).get(timeout=...)`` raises
  multiprocessing.TimeoutError, as the article says.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psutil

from gilbench.bench.entries import StartupEntry, timed
from gilbench.bench.launch import harness_env, module_command
from gilbench.bench.reaper import stop_helper
from gilbench.bench.strategies import (
    JOIN_S,
    STRATEGIES,
    CellFailure,
    Deadline,
    children_ignore_ctrl_c,
    init_worker,
    reraise_ctrl_c,
)
from gilbench.bench.suites.base import CostSuite, failed

PROBE_GRACE_S = 30.0  # beyond the per-measurement limits, before the probe is killed


@dataclass(frozen=True)
class StartupBudget:
    """How much the startup suite measures at a profile."""

    repeats: int  # start-and-join repeats (threads do 10x more)


def _noop() -> None:
    pass


def _square(x: int) -> int:
    return x * x


def _exit_now(_x: int) -> None:
    os._exit(3)  # a worker that dies mid-task, as a crash would


def probe(budget: StartupBudget, timeout_s: float, start_methods: tuple[str, ...],
          workers: tuple[int, ...], on_entry: Callable[[StartupEntry], None], *,
          python: str | None = None, env: dict[str, str] | None = None) -> None:
    """Run ``bench.startprobe`` in a fresh interpreter (gilbench's own, or ``python`` with
    ``env``: a --python run's) and pass on each entry it prints."""
    args = {"repeats": budget.repeats, "timeout_s": timeout_s,
            "start_methods": list(start_methods), "workers": list(workers)}
    expected = (2 + len(start_methods)) * (1 + len(workers))  # threads, methods, interpreters
    limit = timeout_s * expected + PROBE_GRACE_S
    # A session of its own: a Ctrl-C is ours to handle, and stop_helper passes it on
    # once, so that none lands in a worker half-way through its start.
    proc = subprocess.Popen(module_command(python or sys.executable, "gilbench.bench.startprobe",
                                           json.dumps(args)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env or harness_env(), start_new_session=True)
    out, errors = proc.stdout, proc.stderr
    assert out is not None and errors is not None  # both piped above
    seen = 0
    try:
        killer = threading.Timer(limit, stop_helper, (proc,))
        killer.start()
        try:
            for line in out:
                on_entry(StartupEntry.from_dict(json.loads(line)))
                seen += 1
        finally:
            killer.cancel()
        err = errors.read()
        code = proc.wait()
    except BaseException:
        stop_helper(proc)
        raise
    finally:
        out.close()
        errors.close()
    if seen < expected:
        last = (err.strip().splitlines() or [f"exit code {code}"])[-1]
        raise CellFailure(f"the start-up probe stopped after {seen} of {expected} "
                          f"measurements: {last}")


def _status(pid: int) -> str | None:
    try:
        return psutil.Process(pid).status()
    except psutil.NoSuchProcess:
        return None


def zombie_check(deadline: Deadline) -> StartupEntry:
    """Start a child that exits at once, do not join it, and look at it."""
    ctx = multiprocessing.get_context()
    p = ctx.Process(target=_noop, daemon=True)
    with children_ignore_ctrl_c():
        p.start()
    pid = p.pid
    assert pid is not None
    try:
        status = _status(pid)
        while status not in (psutil.STATUS_ZOMBIE, None):
            time.sleep(0.005)
            deadline.check("waiting for the child to exit")
            status = _status(pid)
        was_zombie = status == psutil.STATUS_ZOMBIE
    finally:
        p.join(JOIN_S)
    after = _status(pid)
    reaped = after is None
    return StartupEntry(
        what="zombie", model="processes", start_method=ctx.get_start_method(),
        observed=was_zombie and reaped,
        detail=(f"child {pid} exited; before join() its state was "
                f"{'zombie' if was_zombie else 'gone'}; after join() it was "
                f"{'gone (reaped)' if reaped else after}"))


def _zombies() -> list[str]:
    out = []
    for c in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if c.status() == psutil.STATUS_ZOMBIE:
                out.append(f"{c.pid}")
    return out


def no_zombies_check(deadline: Deadline) -> StartupEntry:
    """Run every process strategy once to success and once with a dying worker."""
    method = multiprocessing.get_start_method()
    checked, found = [], []
    for name, cls in STRATEGIES.items():
        if not cls.uses_processes:
            continue
        for task, outcome in ((_square, "success"), (_exit_now, "worker died")):
            try:
                with cls(2, method) as s:
                    s.start(Deadline(deadline.remaining()))
                    s.map(task, list(range(4)), Deadline(min(10.0, deadline.remaining() or 10)))
            except CellFailure:
                if outcome == "success":
                    raise
            z = _zombies()
            checked.append(f"{name} ({outcome})")
            if z:
                found.append(f"{name} after {outcome}: zombie pid {', '.join(z)}")
            deadline.check("checking for zombies")
    return StartupEntry(what="no_zombies", model="processes", start_method=method,
                        observed=not found,
                        detail=("; ".join(found) if found else
                                f"no zombie after {len(checked)} runs: {', '.join(checked)}"))


def get_timeout_check(deadline: Deadline) -> StartupEntry:
    """The article's ``apply_async(time.sleep, (10,)).get(timeout=1)``, scaled down 20x."""
    sleep_s, wait_s = 0.5, 0.05
    with children_ignore_ctrl_c():
        pool = multiprocessing.get_context().Pool(1, initializer=init_worker)
    try:
        first = pool.apply_async(_square, (10,)).get(timeout=max(1.0, deadline.remaining() or 1))
        t0 = time.perf_counter()
        try:
            pool.apply_async(time.sleep, (sleep_s,)).get(timeout=wait_s)
            raised = False
        except multiprocessing.TimeoutError:
            raised = True
        waited = time.perf_counter() - t0
    finally:
        pool.terminate()
        pool.join()
    return StartupEntry(
        what="get_timeout", model="processes", start_method=multiprocessing.get_start_method(),
        observed=raised and first == 100, median_s=waited,
        detail=(f"apply_async(_square, (10,)).get() gave {first}; "
                f"apply_async(time.sleep, ({sleep_s},)).get(timeout={wait_s}) "
                + (f"raised multiprocessing.TimeoutError after {waited * 1000:.0f} ms; the task "
                   "kept its worker busy until pool.terminate()" if raised
                   else "returned without raising")))


def ray_repeats(budget: StartupBudget) -> int:
    """A local Ray takes seconds to start and stop: a few of them, not the pools' dozens."""
    return max(1, min(5, budget.repeats // 4))


def ray_start(workers: int, repeats: int, deadline: Deadline) -> StartupEntry:
    """A local Ray with ``workers`` CPUs, as the ray strategy starts one: ``ray.init``
    until every worker has run a task (the pool's time), then ``ray.shutdown`` and its
    folder removed (``stop_s``). The driver runs in its host process (never in this one),
    which is started, with Ray imported, before the clock starts; each time includes one
    round trip to it."""
    cls = STRATEGIES["ray"]
    starts, stops = [], []
    for _ in range(repeats):
        with cls(workers) as strat:
            t0 = time.perf_counter()
            strat.start(deadline)
            starts.append(time.perf_counter() - t0)
            t1 = time.perf_counter()
            strat.close()
            stops.append(time.perf_counter() - t1)
        deadline.check("starting Ray")
    return StartupEntry(what="pool", model="processes", start_method="ray", workers=workers,
                        repeats=repeats, min_s=min(starts), stop_s=sorted(stops)[len(stops) // 2],
                        detail="a local Ray (ray.init with num_cpus = workers) until every "
                               "worker has run a task; stop: ray.shutdown()",
                        **timed(starts))


def run(budget: StartupBudget, usable_cpus: int, on_entry: Callable[[StartupEntry], None],
        timeout_s: float, start_methods: tuple[str, ...] | None = None,
        workers: tuple[int, ...] | None = None,
        start_method: str | None = None) -> None:
    # start_method is not used: start-up is measured under every start method.
    methods = start_methods or tuple(multiprocessing.get_all_start_methods())
    counts = workers or tuple(sorted({1, 2, max(1, usable_cpus)}))
    try:
        probe(budget, timeout_s, methods, counts, on_entry)
    except CellFailure as exc:
        on_entry(failed(StartupEntry, exc, what="probe"))
    if STRATEGIES["ray"].available()[0]:
        n = max(counts)
        try:
            entry = ray_start(n, ray_repeats(budget), Deadline(timeout_s))
        except Exception as exc:
            reraise_ctrl_c()
            entry = failed(StartupEntry, exc, what="pool", model="processes",
                           start_method="ray", workers=n)
        on_entry(entry)
    jobs: list[tuple[dict[str, Any], Callable[[Deadline], StartupEntry]]] = [
        (dict(what="zombie", model="processes"), zombie_check),
        (dict(what="no_zombies", model="processes"), no_zombies_check),
        (dict(what="get_timeout", model="processes"), get_timeout_check)]
    for fields, job in jobs:
        try:
            entry = job(Deadline(timeout_s))
        except Exception as exc:
            reraise_ctrl_c()
            entry = failed(StartupEntry, exc, **fields)
        on_entry(entry)


def run_in(python: str, env: dict[str, str], budget: StartupBudget, timeout_s: float,
           workers: tuple[int, ...], on_entry: Callable[[StartupEntry], None]) -> None:
    """The start-up probe in another interpreter (a --python run's): what its workers
    cost to start under every start method, and its subinterpreters. (The lifecycle
    checks run in gilbench's own process, once.)"""
    try:
        probe(budget, timeout_s, tuple(multiprocessing.get_all_start_methods()), workers,
              on_entry, python=python, env=env)
    except CellFailure as exc:
        on_entry(failed(StartupEntry, exc, what="probe"))


SUITE = CostSuite(
    name="startup", run=run,
    budgets={"smoke": StartupBudget(repeats=2), "quick": StartupBudget(repeats=8),
             "standard": StartupBudget(repeats=20), "full": StartupBudget(repeats=50)},
    # About how long it takes at each profile: measured on the 2-CPU VM.
    # A local Ray (when installed) adds about 4 s per start and stop.
    seconds={"smoke": 12, "quick": 18, "standard": 35, "full": 170},
)
