"""How gilbench stops: Ctrl-C, SIGTERM and a closed terminal, the same clean way.

gilbench's command, and each of its helper programs (``bench.startprobe``,
``bench.remote``), installs ``install_stop_handlers`` first: SIGINT (Ctrl-C), SIGTERM
(``kill PID``, a job scheduler) and SIGHUP (the terminal went away) all raise
``KeyboardInterrupt`` in the main thread, so that every ``with`` and ``finally`` on the
way out runs: what finished is saved, workers are terminated and joined. ``stopped_by``
remembers which signal it was, for the exit code (128 + its number; 130 for Ctrl-C).

SIGXFSZ (a write past ``ulimit -f``) is ignored, so that such a write fails with EFBIG,
which gilbench reports in one line, instead of killing the process with a core dump and
whatever it had not saved.

Around the starting of workers, ``children_ignore_ctrl_c`` blocks SIGINT so that no child
sees a Ctrl-C half-way through its start-up; ``ctrl_c_deferred`` keeps what must not be
cut in half (a cluster starting or closing) whole.

Standard library only: ``bench.startprobe``'s spawned children import this module too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

_STOPPED_BY: list[int] = []  # the signal that stopped this process, if any
_OWNER: list[int] = []  # the process that installed the handlers (forks inherit them)

# Signals that stop a run the way Ctrl-C does (SIGHUP: the terminal was closed).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))


def on_ctrl_c(signum: int, _frame: object) -> None:
    """The handler of every stop signal: Python's own Ctrl-C (KeyboardInterrupt),
    remembered. A SIGTERM (``kill PID``, a job scheduler) or SIGHUP stops the run the
    same way, so that it too saves what finished and leaves nothing behind."""
    if signum != signal.SIGINT and _OWNER and os.getpid() != _OWNER[0]:
        # A forked worker, not gilbench (``_child_stops_by_default`` should have reset
        # this already): a SIGTERM (Pool.terminate sends one) ends it quietly.
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    _STOPPED_BY[:] = _STOPPED_BY or [signum]
    raise KeyboardInterrupt


def install_stop_handlers() -> None:
    """Ctrl-C, SIGTERM and SIGHUP all stop this process through ``on_ctrl_c``, and a
    write past a file-size limit fails instead of killing it. A signal the caller chose
    to ignore (``nohup``, a background job of a script) stays ignored."""
    _OWNER[:] = [os.getpid()]
    if not _FORK_HOOKED and hasattr(os, "register_at_fork"):
        _FORK_HOOKED.append(True)
        os.register_at_fork(before=_block_for_fork, after_in_parent=_unblock_after_fork,
                            after_in_child=_child_stops_by_default)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, on_ctrl_c)
    for signum in STOP_SIGNALS[1:]:
        if signal.getsignal(signum) == signal.SIG_DFL:
            signal.signal(signum, on_ctrl_c)
    if hasattr(signal, "SIGXFSZ") and signal.getsignal(signal.SIGXFSZ) == signal.SIG_DFL:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


# ------------------------------------------------------------ forked children

_FORK_HOOKED: list[bool] = []
_FORK_MASK = threading.local()  # what the forking thread had blocked before the fork
_CHILD_DEFAULT = frozenset(STOP_SIGNALS[1:])  # SIGTERM, SIGHUP: a forked child dies of them


def _block_for_fork() -> None:
    """Before ``os.fork``: SIGTERM and SIGHUP held back in the forking thread (and so in
    the child) until the child has reset their handlers.

    A forked worker inherits the handlers above, and a signal that reaches it before
    CPython has finished its after-fork work is dropped (it clears the signals it had
    noted but not yet handled). A ``Pool.terminate()`` right after the pool replaced a
    worker sends exactly such a SIGTERM, and then waits for that worker for ever. Held
    back, the signal stays pending and kills the child once it is let through."""
    _FORK_MASK.before = signal.pthread_sigmask(signal.SIG_BLOCK, _CHILD_DEFAULT)


def _unblock_after_fork() -> None:
    before = getattr(_FORK_MASK, "before", None) or ()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _CHILD_DEFAULT - set(before))


def _child_stops_by_default() -> None:
    """In a forked child: SIGTERM and SIGHUP back to their default action (the process
    ends, as a worker should when its pool terminates it), then let through."""
    for signum in _CHILD_DEFAULT:
        if callable(signal.getsignal(signum)):
            with contextlib.suppress(ValueError):  # not the main thread: cannot reset
                signal.signal(signum, signal.SIG_DFL)
    _unblock_after_fork()


def stopped_by() -> int | None:
    """The signal that stopped this process (SIGINT, SIGTERM or SIGHUP), if one did."""
    return _STOPPED_BY[0] if _STOPPED_BY else None


def reraise_ctrl_c() -> None:
    """Call first where an ``Exception`` becomes a failed cell or measurement: an error
    raised while a Ctrl-C unwound (a broken pipe, a half-read message, a cleanup that
    failed and replaced the KeyboardInterrupt) is the Ctrl-C, not a failure to record."""
    if _STOPPED_BY:
        raise KeyboardInterrupt


@contextlib.contextmanager
def ctrl_c_deferred() -> Iterator[None]:
    """A stop signal that arrives inside is raised when the block ends, not in its middle.

    For what must not be cut in half — a pool half-built (its threads already refilling
    it, and no one holding it to close it), a cluster half-started or half-closed —
    leaves processes and threads that no one then closes. Every stop signal this
    process handles is held off the same way: a Ctrl-C, and a SIGTERM or SIGHUP, which
    stop gilbench as Ctrl-C does. A second signal inside raises at once (a user who
    presses twice means it). Outside the main thread, where no signal handler can be
    set, a no-op; a signal that is ignored (a background job of a script) or left at
    its default action stays so.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handled = [s for s in STOP_SIGNALS if callable(signal.getsignal(s))]
    pressed: list[int] = []

    def later(signum: int, frame: object) -> None:
        if signum != signal.SIGINT and _OWNER and os.getpid() != _OWNER[0]:
            on_ctrl_c(signum, frame)  # a forked worker: it ends, as it should
            return
        _STOPPED_BY[:] = _STOPPED_BY or [signum]
        if pressed:
            raise KeyboardInterrupt
        pressed.append(signum)

    previous = {s: signal.signal(s, later) for s in handled}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if pressed:
        raise KeyboardInterrupt


@contextlib.contextmanager
def children_ignore_ctrl_c() -> Iterator[None]:
    """Processes started inside never see Ctrl-C; this one sees it after the block.

    Ctrl-C goes to the whole process group. A child that gets it between its
    fork and the first line of ``init_worker`` (which ignores SIGINT) prints a
    KeyboardInterrupt traceback from the middle of its start-up. Blocking
    SIGINT in this thread while children start closes that window: a child
    inherits the blocked signal (through exec too, so spawn and the fork
    server are covered), and so do the threads started here and *their*
    children (a Dask cluster's event loop starts its worker processes). This
    process loses nothing: a Ctrl-C that arrives meanwhile is raised when the
    block ends (``ctrl_c_deferred``).

    multiprocessing's resource tracker is started first: starting it *unblocks*
    SIGINT in the thread that starts it (``resource_tracker.ensure_running``),
    which would open the window again for every child after it.
    """
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no process groups, no window
        yield
        return
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    with ctrl_c_deferred():
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
