"""Helpers shared by the test modules (test modules never import each other)."""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.resource_tracker
import time

import psutil

from bench.results import Cell


def multiprocessing_helpers() -> set[int]:
    """multiprocessing's (and loky's) own long-lived helpers (the forkserver, the
    resource trackers): started on first use, they exit with the interpreter, by design."""
    pids = set()
    with contextlib.suppress(AttributeError):
        pids.add(multiprocessing.forkserver._forkserver._forkserver_pid)
    with contextlib.suppress(AttributeError):
        pids.add(multiprocessing.resource_tracker._resource_tracker._pid)
    # loky keeps its own resource tracker for the life of the interpreter, likewise.
    with contextlib.suppress(ImportError, AttributeError):
        from loky.backend import resource_tracker

        pids.add(resource_tracker._resource_tracker._pid)
    return {p for p in pids if p}


def children() -> set[int]:
    """Every descendant pid, zombies included (a zombie is a child nobody joined),
    less multiprocessing's own helpers."""
    return {p.pid for p in psutil.Process().children(recursive=True)} - multiprocessing_helpers()


def assert_no_new_children(before: set[int]) -> None:
    deadline = time.monotonic() + 5
    while (left := children() - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"workers left behind: {left}"


# ------------------------------------------------------------ made-up cells

MODELS = {"serial": "serial", "threads": "threads", "thread_pool": "threads",
          "pool_map": "processes", "process_pipe": "processes"}


def cell(workload, kind, strategy, workers, median, status="ok"):
    times = (median * 0.99, median, median * 1.01) if status == "ok" else ()
    return Cell(workload=workload, kind=kind, size=1, tasks=8, strategy=strategy,
                start_method="fork" if MODELS[strategy] == "processes" else None,
                workers=workers, status=status, model=MODELS[strategy], times_s=times,
                median_s=median if status == "ok" else None, startup_s=0.01,
                error=None if status == "ok" else "worker process 1 was killed by SIGKILL")
