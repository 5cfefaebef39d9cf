"""What a cell costs besides time: CPU seconds and peak resident memory.

CPU time of gilbench's own process comes from ``time.process_time`` (every
thread, at the clock's resolution); a worker process's from psutil. Peak
memory is the kernel's high-water mark of each process's resident set
(``VmHWM`` in ``/proc/PID/status``, Linux), read after the cell; gilbench's
own mark is reset before each timed run (``/proc/self/clear_refs``), so it
is this cell's peak and not the run's so far. psutil has no high-water mark:
where ``/proc`` lacks one, its current RSS is sampled at the edges of each
run instead (a lower bound). A fork child's RSS counts the pages it still
shares with its parent, so the sum over a process tree is an upper bound on
the memory it really takes (the start-up suite reports PSS, which is not).

Everything here works without psutil too (``gilbench run --python`` in an
interpreter that lacks it): the worker side then reads None.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def _psutil() -> Any:
    try:
        import psutil
    except ImportError:
        return None
    return psutil


def main_cpu_s() -> float:
    """CPU seconds (user + system) of this process, all its threads."""
    return time.process_time()


def _proc_children(pid: int) -> list[int] | None:
    """The children of one process from ``/proc/PID/task/TID/children`` (Linux: a few
    small reads, where psutil's list reads the parent of every process of the machine),
    or None where the kernel has no such file."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None if pid == os.getpid() else []
    out: list[int] = []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                out.extend(int(c) for c in f.read().split())
        except FileNotFoundError:
            if not os.path.exists(f"/proc/{pid}/task/{tid}"):
                continue  # a thread that ended meanwhile
            return None
        except OSError:
            continue
    return out


def children() -> set[int]:
    """Pids of this process's live descendants (empty without psutil or ``/proc``)."""
    found: set[int] = set()
    todo = [os.getpid()]
    while todo:
        kids = _proc_children(todo.pop())
        if kids is None:
            return _psutil_children()
        todo.extend(k for k in kids if k not in found)
        found.update(kids)
    return found


def _psutil_children() -> set[int]:
    psutil = _psutil()
    if psutil is None:
        return set()
    with contextlib.suppress(psutil.Error):
        return {c.pid for c in psutil.Process().children(recursive=True)}
    return set()


def cpu_s_of(pids: Iterable[int]) -> float | None:
    """User + system CPU seconds of these processes (gone ones count 0)."""
    psutil = _psutil()
    if psutil is None:
        return None
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            total += sum(psutil.Process(pid).cpu_times()[:2])
    return total


def _hwm_bytes(pid: int | str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return None


def rss_bytes(pid: int) -> int | None:
    psutil = _psutil()
    if psutil is None:
        return None
    with contextlib.suppress(psutil.Error):
        return int(psutil.Process(pid).memory_info().rss)
    return None


def peak_bytes(pid: int) -> int | None:
    """A process's peak resident memory so far (its current RSS where the
    kernel keeps no peak)."""
    hwm = _hwm_bytes(pid)
    return hwm if hwm is not None else rss_bytes(pid)


def reset_own_peak() -> bool:
    """Reset this process's high-water mark to its current RSS (Linux 4.0+)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class OwnPeak:
    """This process's peak resident memory over a set of timed runs."""

    def __init__(self) -> None:
        self.peak = 0
        self.exact = False  # the kernel's high-water mark was reset before the run

    def before_run(self) -> None:
        self.exact = reset_own_peak()
        if not self.exact:
            self._add(rss_bytes(os.getpid()))

    def after_run(self) -> None:
        # Without a reset the high-water mark is the whole process's lifetime peak:
        # only the current RSS says something about this run then.
        pid = os.getpid()
        self._add(_hwm_bytes(pid) if self.exact else rss_bytes(pid))

    def _add(self, value: int | None) -> None:
        if value is not None:
            self.peak = max(self.peak, value)


def tree_peak_bytes(own_peak: int, pids: Iterable[int]) -> int | None:
    """This process's peak plus each worker's: the cell's process tree."""
    total = own_peak
    for pid in pids:
        value = peak_bytes(pid)
        if value is not None:
            total += value
    return total or None
