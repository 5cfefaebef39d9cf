"""What the cost suites share: per-profile budgets, partners, waits, failed entries.

Every suite module (``startup``, ``ipc``, ``sync``, ``latency``) has one entry
point with the same signature (``SuiteRun``), so the session runs any of them the
same way::

    run(budget, usable_cpus, on_entry, timeout_s, *, start_method=None, workers=None)

``start_method`` is the one the user chose (None: the platform's default);
``workers`` the run's worker counts. A suite uses what applies to it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from bench.signals import children_ignore_ctrl_c
from bench.strategies.base import (
    JOIN_S,
    CellFailure,
    Deadline,
    MpContext,
    WorkerDied,
    describe,
    exit_reason,
)
from bench.suites.entries import Entry

E = TypeVar("E", bound=Entry)


class SuiteRun(Protocol):
    """The ``run`` function every cost suite module defines."""

    def __call__(self, budget: Budget, usable_cpus: int, on_entry: Callable[[Any], None],
                 timeout_s: float, *, start_method: str | None = None,
                 workers: tuple[int, ...] | None = None) -> None: ...


@dataclass(frozen=True)
class Budget:
    """How much each cost suite measures, per profile."""

    repeats: int  # startup: start-and-join repeats (threads do 10x more)
    round_trips: int  # ipc/sync: timed round trips, at most
    stream_bytes: int  # ipc: bytes streamed one way per measurement
    max_messages: int  # ipc: messages streamed, at most
    stream_repeats: int  # ipc: streams per measurement (median kept)
    payloads: tuple[int, ...]  # ipc: payload sizes in bytes
    seconds: float  # ipc/sync/latency: time cap of one measurement's timed loop
    pings: int  # latency: pings per configuration, at most
    switch_intervals: tuple[float, ...]  # latency: sys.setswitchinterval values

    def round_trips_for(self, payload: int) -> int:
        return max(5, min(self.round_trips, self.stream_bytes // (2 * max(1, payload))))

    def messages_for(self, payload: int) -> int:
        return max(4, min(self.max_messages, self.stream_bytes // max(1, payload)))


KIB, MIB = 1024, 1024 * 1024
BUDGETS = {
    "smoke": Budget(repeats=2, round_trips=20, stream_bytes=2 * MIB, max_messages=50,
                    stream_repeats=1, payloads=(64, 64 * KIB, MIB), seconds=0.3, pings=20,
                    switch_intervals=(0.005,)),
    "quick": Budget(repeats=8, round_trips=300, stream_bytes=64 * MIB, max_messages=2000,
                    stream_repeats=3, payloads=(64, 4 * KIB, 256 * KIB, MIB, 16 * MIB),
                    seconds=1.0, pings=200, switch_intervals=(0.001, 0.005, 0.02)),
    "standard": Budget(repeats=20, round_trips=1000, stream_bytes=128 * MIB,
                       max_messages=5000, stream_repeats=5,
                       payloads=(64, KIB, 16 * KIB, 256 * KIB, MIB, 4 * MIB, 32 * MIB),
                       seconds=2.0, pings=500, switch_intervals=(0.001, 0.005, 0.02)),
    "full": Budget(repeats=50, round_trips=3000, stream_bytes=256 * MIB, max_messages=20000,
                   stream_repeats=7,
                   payloads=(64, KIB, 16 * KIB, 256 * KIB, MIB, 4 * MIB, 32 * MIB, 64 * MIB),
                   seconds=5.0, pings=2000, switch_intervals=(0.0005, 0.001, 0.005, 0.02, 0.05)),
}

# ------------------------------------------------------------ helpers for the suites


def failed(entry_cls: type[E], exc: BaseException, **fields: Any) -> E:
    """An entry for a measurement that failed: timeout or error, with one line why."""
    status = exc.status if isinstance(exc, CellFailure) else "error"
    text = str(exc) if isinstance(exc, CellFailure) else describe(exc)
    return entry_cls(status=status, error=text, **fields)


class Partner:
    """The other side of a measurement: a process (killed if it outlives its use)
    or a daemon thread (which must end by itself: its waits carry timeouts)."""

    def __init__(self, model: str, target: Callable[..., None], args: tuple[Any, ...],
                 ctx: MpContext | None = None) -> None:
        self.model = model
        if model == "threads":
            self.worker: Any = threading.Thread(target=target, args=args, daemon=True,
                                                name="gilbench-partner")
        else:
            assert ctx is not None
            self.worker = ctx.Process(target=target, args=args, daemon=True,
                                      name="gilbench-partner")

    def start(self) -> None:
        with children_ignore_ctrl_c():
            self.worker.start()

    def check(self) -> None:
        if self.model == "processes" and not self.worker.is_alive():
            raise WorkerDied(f"partner process {self.worker.pid} "
                             f"{exit_reason(self.worker.exitcode)}")
        if self.model == "threads" and not self.worker.is_alive():
            raise WorkerDied("the partner thread ended early")

    def stop(self, graceful: bool) -> None:
        if self.model == "threads":
            self.worker.join(JOIN_S if graceful else 0.2)
            return
        if self.worker.pid is None:
            return
        if graceful:
            self.worker.join(JOIN_S)
        if self.worker.is_alive():
            self.worker.kill()
        self.worker.join(JOIN_S)


@contextlib.contextmanager
def partner(model: str, target: Callable[..., None], args: tuple[Any, ...],
            ctx: MpContext | None = None) -> Iterator[Partner]:
    """Start a partner; join it after success, kill it after a failure or Ctrl-C."""
    p = Partner(model, target, args, ctx)
    p.start()
    try:
        yield p
    except BaseException:
        p.stop(graceful=False)
        raise
    p.stop(graceful=True)


def wait_for(ready: Callable[[float], bool], deadline: Deadline, who: Partner | None,
             what: str) -> None:
    """Block until ``ready(slice)`` is true, in slices, checking the partner and deadline."""
    while not ready(deadline.slice()):
        if who is not None:
            who.check()
        deadline.check(what)


def recv_conn(conn: multiprocessing.connection.Connection, deadline: Deadline,
              who: Partner | None, what: str) -> Any:
    wait_for(conn.poll, deadline, who, what)
    try:
        return conn.recv()
    except EOFError:
        if who is not None:
            who.stop(graceful=True)
            who.check()
        raise WorkerDied(f"the partner closed its end while {what}") from None


