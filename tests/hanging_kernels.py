"""Kernels that never return in gilbench's own process, one per phase that calls a kernel
there, for ``tests/test_watchdog.py``: a file of users' kernels (``--workloads-from``), so
each runs through the whole command as a user's would. The serial cell comes first, so a
kernel that hangs there never reaches a worker."""

from __future__ import annotations

import signal
import time

from gilbench import workload

SIZES = {"smoke": 100, "quick": 100, "standard": 100, "full": 100}
_CALLS = {"seed 1": 0}  # how often this process ran task 1


def _forever() -> None:
    while True:  # Python code: the alarm unwinds it
        time.sleep(0.05)


@workload(kind="cpu", sizes=SIZES)
def hangs_in_the_check(size: int, seed: int) -> int:
    """Never returns: the result check (two calls with seed 0) is where it hangs."""
    _forever()
    return size


@workload(kind="cpu")
def hangs_when_calibrated(size: int, seed: int) -> int:
    """No sizes, so gilbench calibrates one: past size 64 it never returns."""
    if size > 64:
        _forever()
    return sum(range(size * 1000))


@workload(kind="cpu", sizes=SIZES)
def hangs_in_the_serial_cell(size: int, seed: int) -> int:
    """Passes the check (seed 0) and the serial cell's warm-up, then never returns in its
    timed run (the second time this process runs task 1)."""
    if seed == 1:
        _CALLS["seed 1"] += 1
        if _CALLS["seed 1"] > 1:
            _forever()
    return sum(range(size))


@workload(kind="cpu", sizes=SIZES)
def hangs_in_native_code(size: int, seed: int) -> int:
    """Never comes back to the interpreter (as native code stuck in a call would): the
    alarm is blocked in this thread, so only the watch thread can stop it."""
    if seed == 1:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(3600)
    return sum(range(size))
