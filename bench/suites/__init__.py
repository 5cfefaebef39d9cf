"""The cost suites: what parallelism costs before and around the work itself.

The speedup sweep (``bench.runner``) says *whether* threads or processes pay;
these suites say *why* and *when*:

- ``startup``: starting and joining a worker, creating a pool of N, memory per
  worker, and the article's lifecycle claims (zombies, ``get(timeout)``);
- ``ipc``: throughput and round-trip latency of each transport across payloads;
- ``sync``: the cost of one hand-over with each synchronisation primitive;
- ``latency``: how long a waiting thread takes to respond while CPU-bound
  threads (or processes) run — the GIL's latency, as CPython's ccbench measured.

Each suite is a module with ``run(budget, usable_cpus, on_entry, timeout_s)``
that reports one frozen, self-describing entry per measurement. The entry
classes live here (``results`` reads them without importing the suites).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import math
import multiprocessing
import multiprocessing.connection
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from bench.strategies import JOIN_S, CellTimeout, Deadline, WorkerDied, exit_reason

SPEEDUP = "speedup"  # the sweep of bench.runner, not a cost suite
COST_SUITES = ("startup", "ipc", "sync", "latency")
ALL_SUITES = (SPEEDUP, *COST_SUITES)
ENTRY_STATUSES = ("ok", "error", "timeout", "skipped")
SUITE_TITLES = {
    SPEEDUP: "speedup of every strategy on every workload",
    "startup": "worker start-up, pool creation, memory per worker, lifecycle checks",
    "ipc": "IPC throughput and round trips across payload sizes",
    "sync": "hand-over cost of each synchronisation mechanism",
    "latency": "GIL latency: response time under CPU-bound threads or processes",
}


# ------------------------------------------------------------ entries


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One measurement of a cost suite; ``median_s`` and ``p99_s`` when it has times."""

    suite: ClassVar[str]
    status: str = "ok"
    error: str | None = None
    model: str = ""  # "threads" | "processes" | "memory" (the copy ceiling)
    start_method: str | None = None
    median_s: float | None = None
    p99_s: float | None = None

    def __post_init__(self) -> None:
        if self.status not in ENTRY_STATUSES:
            raise ValueError(f"status must be one of {ENTRY_STATUSES}, not {self.status!r}")
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name.endswith(("_s", "_bytes", "_per_s")) and value is not None and (
                    not isinstance(value, (int, float)) or value < 0 or math.isnan(value)):
                raise ValueError(f"{f.name} must be a non-negative number, not {value!r}")
        if self.status == "ok" and self.error:
            raise ValueError("an ok entry carries no error")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Entry:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass(frozen=True, kw_only=True)
class StartupEntry(Entry):
    """``what``: start_join (one worker), pool (a pool of ``workers``), or a lifecycle
    check — zombie, no_zombies, get_timeout — whose outcome is ``observed``."""

    suite: ClassVar[str] = "startup"
    what: str
    workers: int = 1
    repeats: int = 0
    min_s: float | None = None
    stop_s: float | None = None  # closing and joining the pool
    uss_bytes: float | None = None  # per worker: memory only it uses
    pss_bytes: float | None = None  # per worker: its share of shared pages too
    observed: bool | None = None
    detail: str | None = None


@dataclass(frozen=True, kw_only=True)
class IpcEntry(Entry):
    """One transport at one payload size: round trips (``median_s``, ``p99_s``) and a
    one-way stream (``msgs_per_s``, ``bytes_per_s``)."""

    suite: ClassVar[str] = "ipc"
    transport: str
    payload_bytes: int
    round_trips: int = 0
    messages: int = 0
    msgs_per_s: float | None = None
    bytes_per_s: float | None = None


@dataclass(frozen=True, kw_only=True)
class SyncEntry(Entry):
    """One synchronisation mechanism: ``median_s``/``p99_s`` of a round trip, that is
    two hand-overs (to the partner and back)."""

    suite: ClassVar[str] = "sync"
    mechanism: str
    round_trips: int = 0


@dataclass(frozen=True, kw_only=True)
class LatencyEntry(Entry):
    """Response time of a thread waiting on a loopback socket while ``cpu_workers``
    CPU-bound threads (``model`` threads) or processes (``model`` processes) run."""

    suite: ClassVar[str] = "latency"
    cpu_workers: int
    switch_interval_s: float
    pings: int = 0
    lost: int = 0
    max_s: float | None = None


ENTRY_TYPES: dict[str, type[Entry]] = {
    cls.suite: cls for cls in (StartupEntry, IpcEntry, SyncEntry, LatencyEntry)}


# ------------------------------------------------------------ budgets


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


def runner(name: str) -> Callable[..., None]:
    """The ``run`` function of a cost suite (its module is imported only when used)."""
    if name not in COST_SUITES:
        raise KeyError(name)
    return importlib.import_module(f"bench.suites.{name}").run


# ------------------------------------------------------------ helpers for the suites


def failed(entry_cls: type[Entry], exc: BaseException, **fields: Any) -> Entry:
    """An entry for a measurement that failed: timeout or error, with one line why."""
    from bench.strategies import CellFailure, describe

    status = exc.status if isinstance(exc, CellFailure) else "error"
    text = str(exc) if isinstance(exc, CellFailure) else describe(exc)
    return entry_cls(status=status, error=text, **fields)


class Partner:
    """The other side of a measurement: a process (killed if it outlives its use)
    or a daemon thread (which must end by itself: its waits carry timeouts)."""

    def __init__(self, model: str, target: Callable[..., None], args: tuple[Any, ...],
                 ctx: multiprocessing.context.BaseContext | None = None) -> None:
        self.model = model
        if model == "threads":
            self.worker: Any = threading.Thread(target=target, args=args, daemon=True,
                                                name="gilbench-partner")
        else:
            assert ctx is not None
            self.worker = ctx.Process(target=target, args=args, daemon=True,
                                      name="gilbench-partner")

    def start(self) -> None:
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
            ctx: multiprocessing.context.BaseContext | None = None) -> Iterator[Partner]:
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


__all__ = ["ALL_SUITES", "BUDGETS", "COST_SUITES", "ENTRY_TYPES", "SPEEDUP", "Budget",
           "CellTimeout", "Entry", "IpcEntry", "LatencyEntry", "StartupEntry", "SyncEntry"]
