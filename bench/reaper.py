"""Nothing left behind: workers that notice their parent is gone, helper programs stopped
and waited for, and every child reaped before gilbench exits.

- ``watch_parent``: a worker (or a helper program) ends itself once the process that
  started it is gone — killed with SIGKILL, say, which gives no chance to clean up.
- ``stop_helper``: gilbench's helper programs (``bench.startprobe``, ``bench.remote``)
  run in a session of their own, so a terminal's Ctrl-C does not reach them half-way
  through starting a worker; gilbench asks each to stop with one SIGINT (which it
  handles as a Ctrl-C: its workers terminated and joined, its own helpers stopped), waits,
  and only then kills what is left of its process group.
- ``reap_children``: the last thing gilbench (and each helper program) does: every child
  it started — pools' workers, probes, servers, and multiprocessing's long-lived helpers
  (the fork server, the resource trackers), which would otherwise exit only *after* it
  did — has ended and been waited for. After success, failure, Ctrl-C and SIGTERM alike,
  nothing of gilbench outlives it, not even a zombie.

Standard library only (psutil when installed): the helper programs run in interpreters
that may have nothing else, and ``bench.startprobe``'s spawned children import this.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

WATCH_S = 0.5  # how often a worker checks that its parent is still there
PARENT_ENV = "GILBENCH_PARENT_PID"  # a helper program's parent (bench.launch sets it)
HELPER_GRACE_S = 10.0  # how long a helper program asked to stop may take to close its workers
REAP_GRACE_S = 5.0  # how long gilbench waits at exit for a child before killing it


# ------------------------------------------------------------ the worker's side


def _parent_gone_check() -> Callable[[], bool]:
    """How this process can tell that the process that started it is gone.

    A worker started by multiprocessing holds a sentinel of its parent: a pipe end the
    kernel closes when the parent dies, under fork, spawn and the fork server alike
    (where the parent *pid* is the fork server's). It is already closed in a worker
    orphaned before it got as far as asking — a Ctrl-C that landed while a spawned worker
    was starting, whose parent pid was by then already init's. Other processes (loky's
    workers, gilbench's helper programs) watch their parent pid: the one they were
    started by (``GILBENCH_PARENT_PID``, for a helper), else the one they have now.
    """
    told = os.environ.pop(PARENT_ENV, None)
    ppid = int(told) if told and told.isdigit() else os.getppid()
    parent = multiprocessing.parent_process()
    sentinel = parent.sentinel if parent is not None else None
    if sentinel is None:
        return lambda: os.getppid() != ppid
    from multiprocessing.connection import wait

    return lambda: os.getppid() != ppid or bool(wait([sentinel], timeout=0))


def watch_parent(on_gone: Callable[[], None] | None = None) -> None:
    """Start a daemon thread that ends this process once its parent is gone: ``on_gone``
    (a helper program stops itself cleanly), else ``os._exit(1)`` (a worker, which has
    nothing to save and would otherwise wait forever on a queue as an orphan)."""
    gone = _parent_gone_check()

    def watch() -> None:
        while not gone():
            time.sleep(WATCH_S)
        (on_gone or (lambda: os._exit(1)))()

    threading.Thread(target=watch, name="gilbench-parent-watch", daemon=True).start()


def stop_myself() -> None:
    """``on_gone`` of a helper program: stop as a Ctrl-C would (its handler closes the
    workers it has), and if that does not end it within the grace, end it hard."""
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(HELPER_GRACE_S)
    os._exit(1)


# ------------------------------------------------------------ helper programs


def kill_group(pgid: int) -> None:
    """SIGKILL a helper program's own process group (what is left of it)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def stop_helper(proc: subprocess.Popen[Any], grace_s: float = HELPER_GRACE_S) -> int:
    """Stop a helper program started in a session of its own (``start_new_session``):
    one SIGINT, which it handles as a Ctrl-C; ``grace_s`` for it to close its workers and
    exit; then its process group is killed. Waited for either way; its exit code."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace_s)
    kill_group(proc.pid)  # its session's group: anything it failed to stop
    return proc.wait()


# ------------------------------------------------------------ at exit

_HURRY = threading.Event()  # a second Ctrl-C while reaping: kill what is left at once


def _wait_pid(pid: int, until: float) -> bool:
    """Wait for a child until the monotonic ``until`` (or a hurry); whether it ended."""
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not ours, or already waited for
            return True
        if done:
            return True
        if _HURRY.is_set() or time.monotonic() >= until:
            return False
        time.sleep(0.01)


def _end(pid: int, grace_s: float) -> bool:
    """A child that should have ended: wait for it, then SIGTERM, then SIGKILL; reaped.
    Whether it had to be signalled."""
    if _wait_pid(pid, time.monotonic() + grace_s):
        return False
    for signum, wait_s in ((signal.SIGTERM, 1.0), (signal.SIGKILL, 60.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
        if _wait_pid(pid, time.monotonic() + wait_s):
            break
    return True


def _end_process(p: Any, grace_s: float) -> bool:
    """The same for a multiprocessing child, through its own API (which does the
    waiting, so that multiprocessing's books agree)."""
    until = time.monotonic() + grace_s
    while p.is_alive() and not _HURRY.is_set() and time.monotonic() < until:
        p.join(0.05)
    if not p.is_alive():
        p.join()
        return False
    for stop, wait_s in ((p.terminate, 1.0), (p.kill, 60.0)):
        with contextlib.suppress(Exception):
            stop()
        p.join(wait_s)
        if not p.is_alive():
            break
    return True


def _child_pids() -> list[int]:
    """This process's direct children, zombies included."""
    try:
        import psutil

        return [c.pid for c in psutil.Process().children()]
    except ImportError:
        pass
    me, found = os.getpid(), []
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError, IndexError), \
                    open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                # pid (comm) state ppid ...: comm may hold spaces and parentheses
                if int(f.read().rpartition(")")[2].split()[1]) == me:
                    found.append(int(entry))
    return found


def _helpers() -> Iterator[Any]:
    """multiprocessing's long-lived helpers of this process, the fork server first (its
    children hold the trackers' pipes): objects with a private ``_stop()``, which closes
    the pipe the helper waits on and waits for it. Only those already imported."""
    for module, attr in (("multiprocessing.forkserver", "_forkserver"),
                         ("loky.backend.resource_tracker", "_resource_tracker"),
                         ("multiprocessing.resource_tracker", "_resource_tracker")):
        helper = getattr(sys.modules.get(module), attr, None)
        if helper is not None and callable(getattr(helper, "_stop", None)):
            yield helper


@contextlib.contextmanager
def _hurried_by_signals() -> Iterator[None]:
    """While reaping, a Ctrl-C (or SIGTERM) does not raise: it cuts the waits short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stops = [s for s in (signal.SIGINT, signal.SIGTERM) if signal.getsignal(s) != signal.SIG_IGN]
    previous = {s: signal.signal(s, lambda *_: _HURRY.set()) for s in stops}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


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


def _end_lost_pools(wait_s: float = 2.0) -> list[int]:
    """Every ``multiprocessing.Pool`` of this process that is still running, ended the
    way ``Pool.terminate`` would end it, safely; the pids of its workers it had to stop.

    Only a pool that no one holds any more is still running here — a stop signal
    raised in the middle of ``Pool()``, after its threads had started. Its
    worker-handler thread replaces every worker that ends: it would answer the reaping
    below with fresh workers (and a fresh resource tracker), started after the children
    were listed and so left behind. And its finalizer, which multiprocessing's exit work
    runs, takes the task queue's read lock, which a killed idle worker holds for ever.
    So: the handler is told to stop (as ``Pool.terminate`` tells it), woken and waited
    for; the workers are killed and reaped; a lock a dead worker held is freed. The
    pool's finalizer then runs through.
    """
    pool_module = sys.modules.get("multiprocessing.pool")
    if pool_module is None:
        return []
    handle_workers = pool_module.Pool._handle_workers
    lost = [(t, t._args) for t in threading.enumerate()  # type: ignore[attr-defined]
            if getattr(t, "_target", None) == handle_workers and t.is_alive()]
    for t, args in lost:
        t._state = pool_module.TERMINATE  # type: ignore[attr-defined]
        with contextlib.suppress(Exception):
            args[-1].put(None)  # its change notifier: it wakes and sees the order
    until = time.monotonic() + wait_s
    for t, _ in lost:
        t.join(max(0.0, until - time.monotonic()))
    signalled = []
    for _, args in lost:
        workers, inqueue, outqueue = args[5], args[6], args[7]
        for p in list(workers):
            if _end_process(p, 0.0) and p.pid:
                signalled.append(p.pid)
        for q in (outqueue, inqueue):
            for lock in (getattr(q, "_wlock", None), getattr(q, "_rlock", None)):
                free_if_dead_holder(lock)
    return signalled


def reap_children(grace_s: float = REAP_GRACE_S) -> list[int]:
    """Before this process exits: every child it started has ended and been waited for.

    First multiprocessing's children (pool workers, a Dask cluster's, loky's): a daemonic
    one is terminated at once, as multiprocessing itself does at exit, another is given
    ``grace_s`` to end, then terminated, then killed; then multiprocessing's own
    exit work runs now rather than at interpreter exit (semaphores unlinked). Then its
    helpers are stopped: the fork server, and the resource trackers, which exit once the
    last process holding their pipe has (and unlink what a killed process left behind).
    Then any other child (a helper program, a server, a zombie) is waited for within
    what is left of the grace, then terminated, then killed. Returns the pids that had
    to be signalled.
    """
    signalled: list[int] = []
    with _hurried_by_signals():
        until = time.monotonic() + grace_s
        signalled += _end_lost_pools()
        for p in multiprocessing.active_children():
            # A daemonic child (a pool's worker) is terminated at once, as multiprocessing
            # does at exit; another is given the grace to finish.
            left = 0.0 if p.daemon else max(0.0, until - time.monotonic())
            if _end_process(p, left) and p.pid:
                signalled.append(p.pid)
        exit_work = getattr(sys.modules.get("multiprocessing.util"), "_exit_function", None)
        if callable(exit_work):
            with contextlib.suppress(Exception):
                exit_work()
        for helper in _helpers():  # their pipes' other ends were in the children above
            with contextlib.suppress(Exception):
                helper._stop()
        for pid in _child_pids():  # a helper program, a server, a late zombie
            if _end(pid, max(0.0, until - time.monotonic())):
                signalled.append(pid)
    return signalled
