"""A kernel that never returns in gilbench's own process: stopped at the time limit.

Worker processes are killed when a task hangs (their strategies wait against a
``Deadline``). But gilbench's own process calls the kernel too: the serial baseline and
the serial runs paired with every cell, the warm-up of the serial cell, the result check
and the calibration of a user's kernel, the one-task timing of a granularity sweep, the
reference a resumed run recomputes. A call there cannot be killed, so ``watched`` bounds
it, in two layers:

- **At the limit**, SIGALRM raises ``KernelHung`` in the main thread. A kernel that runs
  Python code, or waits in a system call, is unwound there like a Ctrl-C: every
  ``finally`` on the way out runs (workers closed, what finished saved), and the command
  says in one line which kernel did not return in which phase (``KernelHung.line``) and
  exits ``EXIT_KERNEL_HUNG`` (124, as ``timeout(1)`` does).
- **A grace later**, if the main thread still has not come back (native code that never
  returns to the interpreter, and releases the GIL), a watch thread says the same line,
  ends every child and exits 124 at once. What finished is on disk already: a run saves
  its results after every cell.

Native code that never returns *and holds the GIL* stops every thread of the process,
this one included; only an outside signal ends it then (Ctrl-C, ``kill``).

Arming costs a ``setitimer`` call and a sleeping thread's start, both made before the
caller's clock starts (callers put the timed call inside the ``with``); nothing wakes
until the limit. Outside the main thread (no signal handler can be set there) only the
second layer watches. Standard library only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator

EXIT_KERNEL_HUNG = 124  # as timeout(1): the command ran past its time limit
GRACE_S = 5.0  # after the limit, how long the main thread has to unwind before a hard exit


class KernelHung(BaseException):
    """A kernel did not return within the time limit in gilbench's own process.

    A BaseException, like KeyboardInterrupt: no ``except Exception`` on the way up
    records it as a failed cell and carries on in a process whose main thread a kernel
    may still be stuck in."""

    def __init__(self, workload: str, phase: str, limit_s: float) -> None:
        super().__init__(workload, phase, limit_s)
        self.workload, self.phase, self.limit_s = workload, phase, limit_s

    def __str__(self) -> str:
        return (f"kernel {self.workload!r} did not return within {self.limit_s:g} s in "
                f"gilbench's own process ({self.phase})")

    def advice(self, option: str = "--timeout") -> str:
        return (f"make it return for every size and seed, or give it more time with "
                f"{option} SECONDS")


class KernelHungThere(BaseException):
    """A kernel did not return in another interpreter's run (``--python``), which said so
    in its own line and exited ``EXIT_KERNEL_HUNG``: the matrix stops as a local run does."""

    def __init__(self, interpreter: str) -> None:
        super().__init__(interpreter)
        self.interpreter = interpreter


class _Watch:
    """One armed watch: its alarm, its thread, and whether the caller is still inside."""

    def __init__(self, workload: str, phase: str, limit_s: float) -> None:
        self.hung = KernelHung(workload, phase, limit_s)
        self.inside = True
        self.done = threading.Event()
        self.previous: object = None
        self.pending_s = 0.0  # another user's alarm that was set when this one was armed
        self.armed_at = 0.0
        self.signals = threading.current_thread() is threading.main_thread()

    def on_alarm(self, _signum: int, _frame: object) -> None:
        if self.inside:  # else the call returned just before the alarm: nothing to stop
            self.inside = False
            raise self.hung

    def arm(self) -> None:
        if self.signals:
            self.previous = signal.signal(signal.SIGALRM, self.on_alarm)
            self.armed_at = time.monotonic()
            self.pending_s = signal.setitimer(signal.ITIMER_REAL, self.hung.limit_s)[0]
        threading.Thread(target=self.hard_stop, name="gilbench-kernel-watch",
                         daemon=True).start()

    def disarm(self) -> None:
        self.inside = False
        self.done.set()
        if self.signals:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous or signal.SIG_DFL)  # type: ignore[arg-type]
            if self.pending_s > 0:  # another user's alarm, given back with what it had left
                left = self.pending_s - (time.monotonic() - self.armed_at)
                signal.setitimer(signal.ITIMER_REAL, max(left, 0.001))

    def hard_stop(self) -> None:
        """The second layer: the main thread did not come back within the grace."""
        wait = self.hung.limit_s + (GRACE_S if self.signals else 0.0)
        if self.done.wait(wait):
            return
        from gilbench.bench.reaper import reap_children

        print(f"gilbench: error: {self.hung}, and it does not come back to Python: gilbench "
              f"stops at once; {saved_note()}; {self.hung.advice()}", file=sys.stderr,
              flush=True)
        with contextlib.suppress(Exception):
            reap_children()
        os._exit(EXIT_KERNEL_HUNG)


_ACTIVE: list[_Watch] = []
RUN_FOLDER: list[str] = []  # the folder of the run in progress (set by the command)


def saved_note() -> str:
    """What a run stopped now keeps, in words (a run saves after every cell)."""
    if not RUN_FOLDER:
        return "nothing had been measured yet"
    out = RUN_FOLDER[0]
    if not os.path.exists(os.path.join(out, "results.json")):
        return "no cell of the run had finished"
    return (f"what finished is saved in {os.path.join(out, 'results.json')}; once it returns, "
            f"finish with: gilbench run --resume {out}")


@contextlib.contextmanager
def watched(workload: str, phase: str, limit_s: float | None) -> Iterator[None]:
    """Bound the kernel calls inside to ``limit_s`` seconds (None: no limit); past it,
    ``KernelHung`` (module docstring). Inside another watch, the outer one bounds."""
    if limit_s is None or limit_s <= 0 or _ACTIVE or not hasattr(signal, "setitimer"):
        yield
        return
    watch = _Watch(workload, phase, limit_s)
    _ACTIVE.append(watch)
    try:
        watch.arm()
        yield
    finally:
        watch.disarm()
        _ACTIVE.remove(watch)
