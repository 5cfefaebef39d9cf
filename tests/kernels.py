"""Kernels that misbehave on purpose, for the fault tests.

Module-level so that worker processes can import them; not registered as
workloads, so users never see them.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time


def square(seed: int) -> int:
    return seed * seed


def raises(seed: int) -> int:
    if seed == 1:
        raise ValueError(f"task {seed} failed on purpose")
    return seed


def outlasts_the_watchdog(seed: int) -> int:
    """Longer than two periods of the workers' orphan watchdog (0.5 s)."""
    if seed == 0:
        time.sleep(1.2)
    return seed


def kills_an_idle_sibling(seed: int) -> int:
    """Task 0 waits until the other worker has finished the rest and sits idle
    (waiting for a task, holding the task queue's read lock), then kills it."""
    if seed == 0 and multiprocessing.parent_process() is not None:
        import psutil

        time.sleep(0.5)
        me = psutil.Process()
        for sibling in psutil.Process(os.getppid()).children():
            if sibling.pid != me.pid and sibling.cmdline() == me.cmdline():
                sibling.kill()
        time.sleep(1.0)
    return seed


def hangs(seed: int) -> int:
    if seed == 0:
        time.sleep(3)
    return seed


def hangs_forever(seed: int) -> int:
    time.sleep(3600)
    return seed


def crashes_its_worker(seed: int) -> int:
    """Segfault the worker process running task 1, as a buggy extension would."""
    if seed == 1 and multiprocessing.parent_process() is not None:
        import ctypes
        import faulthandler

        faulthandler.disable()  # pytest's handler would print a traceback into the log
        ctypes.string_at(0)  # read address 0: SIGSEGV
    return seed


def kills_its_worker(seed: int) -> int:
    """SIGKILL the worker process running task 1 (never the test process itself)."""
    if seed == 1 and multiprocessing.parent_process() is not None:
        os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(10)
    return seed


def exits_at_once(*_args: object) -> None:
    """A stand-in partner for the cost suites that dies before answering (a thread
    partner just ends)."""
    if multiprocessing.parent_process() is not None:
        os._exit(3)


def never_answers(*_args: object) -> None:
    """A stand-in partner that stays alive and silent (killed by the suite's teardown)."""
    time.sleep(120)


def sits_through_a_ctrl_c(ready: object, go_on: object) -> None:
    """A child that does nothing about SIGINT itself: it says whether it starts
    with SIGINT blocked, then waits while the test sends it one."""
    ready.put(signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, []))  # type: ignore[attr-defined]
    go_on.wait(30)  # type: ignore[attr-defined]


def starts_slowly() -> None:
    """A pool initializer that takes a second before it is gilbench's own: the worker's
    parent can die meanwhile, so that it is orphaned before ``init_worker`` runs."""
    from gilbench.bench.strategies import init_worker

    time.sleep(1.0)
    init_worker()


def kills_a_worker_outside(seed: int) -> int:
    """SIGKILL the process running task 1 unless it is the test's own (named in
    GILBENCH_TEST_PID): a worker of any kind, Ray's included, whose parent is no
    multiprocessing parent."""
    if seed == 1 and str(os.getpid()) != os.environ.get("GILBENCH_TEST_PID"):
        os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(10)
    return seed


class CannotStart:
    """A driver (``bench.strategies.apart``) whose creation fails in its host."""

    def __init__(self, *_args: object) -> None:
        raise RuntimeError("no driver here")


class SlowToClose:
    """A driver (``bench.strategies.apart``) whose terminate takes a second, then leaves
    a mark (the file named in GILBENCH_TEST_MARK): a close cut short leaves none."""

    def __init__(self, *_args: object) -> None:
        self.pids: list[int] = []
        self.gil_in_workers = True

    def start(self, _deadline: object) -> None:
        self.pids = [os.getpid()]

    def terminate(self) -> None:
        time.sleep(1.0)
        with open(os.environ["GILBENCH_TEST_MARK"], "w") as mark:
            mark.write("closed")

    close = terminate
