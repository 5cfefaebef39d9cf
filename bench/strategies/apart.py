"""Strategies whose driver runs in a process of its own (``Apart``): gilbench's process
never imports their library.

A Ray driver leaves threads, gRPC state and its ``_raylet`` library in the process that
ran it, and workers forked from that process afterwards crashed (SIGSEGV) now and then:
in the sweep, in the pytest path, in the cost suites that fork after a sweep with Ray.
So such a strategy is two classes. The registered one (a subclass of ``Apart``) carries
the strategy's facts (name, model, where it runs) and, when a cell creates it, starts a
*host*: a child started by spawn (a fresh interpreter, nothing forked from gilbench) that
imports the library and holds the real strategy (``driver``). ``start``, ``map``,
``gil_now``, ``close`` and ``terminate`` are sent to the host over a pipe and answered
there; a failure comes back as the same ``CellFailure``.

What the clock sees: the host is started and its library imported when the strategy is
created, outside the timed start (``startup_s``) and the timed runs. A timed run adds one
round trip over the pipe (the task and its items pickled there, the results back: tens
of microseconds) to what the library itself costs.

How it stops: the host leads a process group of its own, so a Ctrl-C at the terminal
reaches gilbench and not the library's processes. ``close`` asks the host to close the
driver, and the host exits once it has; ``terminate`` (a failed cell, Ctrl-C) sends the
host SIGTERM, which unwinds whatever it was doing and terminates the driver, then kills
what is left after a grace. A host whose parent is gone exits (``watch_parent``), and the
driver's own watch (``bench.raywatch`` for Ray) ends its processes. A host that dies
mid-run fails the cell (``WorkerDied``).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from gilbench.bench import phases
from gilbench.bench.reaper import watch_parent
from gilbench.bench.signals import children_ignore_ctrl_c
from gilbench.bench.strategies.base import (
    CellFailure,
    CellTimeout,
    Deadline,
    Strategy,
    WorkerDied,
    describe,
    exit_reason,
)

READY_S = 120.0  # longest wait for a host to start and import its library
GRACE_S = 15.0  # how long past a run's deadline the host may take to say it timed out
CLOSE_S = 60.0  # longest wait for a host to close its driver (Ray: shutdown, processes ended)
CHILDREN_GRACE_S = 10.0  # how long orphans the host adopted have to end before a kill
TERMINATE_S = 30.0  # after SIGTERM (or a close), how long before the host is killed


class _Stop(BaseException):
    """Raised in the host's main thread by SIGTERM: unwind, terminate the driver, exit."""


def _portable(exc: BaseException) -> BaseException:
    """The exception as the parent can unpickle it: a CellFailure as it is, anything else
    (a library's own class) as a CellFailure that names it."""
    if isinstance(exc, CellFailure):
        with contextlib.suppress(Exception):
            pickle.loads(pickle.dumps(exc))
            return exc
    return CellFailure(describe(exc))


_STOPPING: list[bool] = []  # set by SIGTERM: whatever exception carries _Stop, it stops


def _stop(_signum: int, _frame: object) -> None:
    # Raised inside a library's native call, _Stop can come out as another exception (a
    # Cython function "returned a result with an exception set": SystemError); the flag
    # says it was a stop all the same.
    _STOPPING.append(True)
    raise _Stop


def _closing() -> None:
    """From here on the host is closing its driver: a second stop signal (gilbench's
    terminate after its own watch, a second Ctrl-C) must not cut that close in half and
    leave the library's processes or folder behind. A kill still ends it."""
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _stop_myself() -> None:
    """gilbench is gone (killed with SIGKILL, say): stop as ``terminate`` would have (the
    driver terminated, its folder removed), and end hard if that takes past the grace."""
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(TERMINATE_S)
    os._exit(1)


def _become_subreaper() -> None:
    """Orphans of the driver's processes (a Ray worker still starting when its raylet
    ended) come to this host instead of to init, and ``_end_children`` ends them. Safe
    here, where it was not in gilbench's own process: the host runs nothing else."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _own_group() -> None:
    """The host leads a process group of its own, and the library's processes (Ray's GCS,
    raylet, dashboard) start in it. A Ctrl-C at the terminal goes to gilbench's group:
    in that group they died of it at once, the driver's core worker saw its raylet gone
    and ended the host abruptly (no ``_end_children``), and Ray's processes outlived
    gilbench now and then. Out of it, gilbench decides: its ``terminate`` stops the host,
    which shuts the driver down in Ray's own order."""
    phases.leaving_group()  # a test's Ctrl-C from in here still goes to gilbench's group
    with contextlib.suppress(OSError, AttributeError):
        os.setpgid(0, 0)


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _alive_descendants(proc: Any) -> list[Any]:
    """Every live process under ``proc`` (psutil), each asked on its own: one that ends
    while the list is made (they are ending now) raises for itself, not for the list."""
    import psutil

    out = []
    with contextlib.suppress(psutil.Error):
        for c in proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if c.status() != psutil.STATUS_ZOMBIE:
                    out.append(c)
    return out


def _kill_all(procs: list[Any], grace_s: float) -> None:
    import psutil

    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.kill()  # psutil checks the pid is still that process
    with contextlib.suppress(psutil.Error):
        psutil.wait_procs(procs, timeout=grace_s)


def _end_children(grace_s: float = CHILDREN_GRACE_S) -> None:
    """Before the host exits: every process still under it (the driver closed its own,
    so these are orphans it adopted, and theirs) ends within the grace, or is killed;
    then once more for any orphan adopted meanwhile (a Ray agent whose raylet was just
    killed); all reaped."""
    try:
        import psutil
    except ImportError:  # no way to list them here: reap what has ended
        _reap()
        return
    me = psutil.Process()
    for wait_s in (grace_s, 1.0):
        until = time.monotonic() + wait_s
        while True:
            _reap()
            alive = _alive_descendants(me)
            if not alive or time.monotonic() > until:
                break
            time.sleep(0.05)
        _kill_all(alive, grace_s)
        _reap()


def _alive(proc: Any) -> bool:
    import psutil

    try:
        return bool(proc.is_running()) and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _host(conn: Any, driver: type[Strategy], workers: int, start_method: str | None,
          initializer: Callable[[], None] | None, address: str | None) -> None:
    """The host's main: the driver created, its library imported, then one answer per
    request until it is closed or terminated."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is gilbench's to decide (_own_group)
    signal.signal(signal.SIGTERM, _stop)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    _own_group()
    _become_subreaper()
    watch_parent(_stop_myself)  # gilbench gone (SIGKILL): the driver closed all the same
    real: Strategy | None = None
    try:
        preload = getattr(driver, "preload", None)
        if callable(preload):
            preload()
        real = driver(workers, start_method, initializer, address)
        conn.send(("ok", None))
        while True:
            verb, args = conn.recv()
            if verb in ("close", "terminate"):
                _closing()
                getattr(real, verb)()
                conn.send(("ok", None))
                return
            try:
                conn.send(("ok", _answer(real, verb, args)))
            except Exception as exc:
                if _STOPPING:
                    raise _Stop from exc
                conn.send(("error", _portable(exc)))
    except BaseException as exc:
        # Terminated (SIGTERM: _Stop, or SystemExit from the handler a library installs
        # while it starts), gilbench gone (EOFError, OSError), or a failure to create or
        # close the driver, which the parent is told.
        if (isinstance(exc, Exception) and not isinstance(exc, (EOFError, OSError))
                and not _STOPPING):
            with contextlib.suppress(BaseException):
                conn.send(("error", _portable(exc)))
        _closing()
        if real is not None:
            with contextlib.suppress(BaseException):
                real.terminate()
    finally:
        # Everything is closed: exit at once, without the library's own exit work (a
        # Ray driver's atexit would try to reach the cluster it has just shut down).
        with contextlib.suppress(Exception):
            conn.close()
        with contextlib.suppress(BaseException):
            _end_children()
        # Once every process under the host has ended, what the driver could not remove
        # while one of them still wrote into it (a folder of logs) is removed.
        after = getattr(real, "after_children_ended", None)
        if callable(after):
            with contextlib.suppress(BaseException):
                after()
        os._exit(0)


def _answer(real: Strategy, verb: str, args: Any) -> Any:
    if verb == "start":
        real.start(Deadline(args))
        return real.pids, real.gil_in_workers
    if verb == "map":
        fn, items, seconds = args
        return real.map(fn, items, Deadline(seconds))
    if verb == "gil_now":
        return real.gil_now(Deadline(args))
    raise ValueError(f"unknown request {verb!r}")


class Apart(Strategy):
    """A strategy whose ``driver`` runs in a host process of its own (module docstring).

    A subclass names the ``driver`` class (a ``Strategy`` that is not registered); the
    driver is created in the host with the cell's workers, start method, initializer and
    address."""

    driver: ClassVar[type[Strategy]]
    runs_apart: ClassVar[bool] = True

    def __init__(self, workers: int = 1, start_method: str | None = None,
                 initializer: Callable[[], None] | None = None,
                 address: str | None = None) -> None:
        super().__init__(workers, start_method, initializer, address)
        self._failed: BaseException | None = None
        self._proc: Any = None
        ctx = multiprocessing.get_context("spawn")
        self._conn, theirs = ctx.Pipe()
        with children_ignore_ctrl_c():
            self._proc = ctx.Process(
                target=_host, name=f"gilbench-{self.name}-host",
                args=(theirs, self.driver, workers, start_method, initializer,
                      self.address), daemon=False)  # reaped with a grace at exit
            self._proc.start()
        theirs.close()
        try:  # the library imported here, outside the timed start
            self._call("ready", None, READY_S, send=False)
        except CellFailure as exc:
            self._failed = exc  # said by start(), where a cell's failure belongs
        except BaseException:  # Ctrl-C while the host started: nothing left behind
            self.terminate()
            raise

    @property
    def host_pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    # -- the interface, answered by the host
    def start(self, deadline: Deadline) -> None:
        if self._failed is not None:
            raise self._failed
        left = deadline.remaining()
        self.pids, self.gil_in_workers = self._call(
            "start", left, None if left is None else left + GRACE_S)

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: Deadline) -> list[Any]:
        left = deadline.remaining()
        out: list[Any] = self._call("map", (fn, list(items), left),
                                    None if left is None else left + GRACE_S)
        return out

    def gil_now(self, deadline: Deadline) -> bool:
        left = deadline.remaining()
        return bool(self._call("gil_now", left, None if left is None else left + GRACE_S))

    def close(self) -> None:
        if self._proc is None or not self._proc.is_alive():
            self._end()
            return
        try:
            self._call("close", None, CLOSE_S)
        finally:
            self._end()

    def terminate(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._proc.pid, signal.SIGTERM)
        self._end()

    # -- the pipe
    def _call(self, verb: str, args: Any, limit_s: float | None, send: bool = True) -> Any:
        """Send a request and wait for its answer, watching the host: one that dies fails
        the cell; one that does not answer within ``limit_s`` is a timeout."""
        if send:
            try:
                self._conn.send((verb, args))
            except (BrokenPipeError, ConnectionResetError, EOFError):
                raise self._died(verb) from None
        until = None if limit_s is None else time.monotonic() + limit_s
        while not self._conn.poll(0.05):
            if not self._proc.is_alive():
                if self._conn.poll(0):  # it answered, then exited (close)
                    break
                raise self._died(verb)
            if until is not None and time.monotonic() > until:
                self.terminate()
                raise CellTimeout(f"the {self.name} driver process did not answer "
                                  f"'{verb}' within {limit_s:g} s")
        try:
            status, value = self._conn.recv()
        except (EOFError, ConnectionResetError):
            raise self._died(verb) from None
        if status == "error":
            raise value
        return value

    def _under_host(self) -> list[Any]:
        """The host's processes now (empty without psutil, or once it has gone)."""
        try:
            import psutil
        except ImportError:
            return []
        try:
            return _alive_descendants(psutil.Process(self._proc.pid))
        except psutil.Error:
            return []

    def _died(self, verb: str) -> WorkerDied:
        self._proc.join(1.0)
        return WorkerDied(f"the {self.name} driver process {self._proc.pid} "
                          f"{exit_reason(self._proc.exitcode)} during '{verb}'")

    def _end(self) -> None:
        """The host waited for (killed after a grace) and the pipe closed; then whatever
        was under it and outlived it is killed (the host ends its own first, unless it
        was cut short: killed, or ended abruptly by its library)."""
        proc = self._proc
        if proc is not None:
            under = self._under_host()
            proc.join(TERMINATE_S)
            if proc.is_alive():
                under += self._under_host()
                proc.kill()
                proc.join()
            proc.close()
            self._proc = None
            if under:
                _kill_all([p for p in under if _alive(p)], CHILDREN_GRACE_S)
        with contextlib.suppress(Exception):
            self._conn.close()
