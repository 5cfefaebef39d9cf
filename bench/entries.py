"""The cost suites' entries: the data model of what a cost suite measured.

Light on purpose: ``bench.results`` (and so every report) reads these without
importing the suites that measure them. One frozen, validated, self-describing
dataclass per suite, registered in ``ENTRY_TYPES`` under the suite's name by
``@entry_type``; that registry is the list of cost suites.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from gilbench.bench import stats

ENTRY_STATUSES = ("ok", "error", "timeout", "skipped")
_E = TypeVar("_E", bound="Entry")


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One measurement of a cost suite; ``median_s`` and ``p99_s`` when it has times."""

    suite: ClassVar[str]
    title: ClassVar[str]  # what the suite measures, for `gilbench list` and the docs
    label_fields: ClassVar[tuple[str, ...]] = ()  # the fields that name one measurement
    status: str = "ok"
    error: str | None = None
    model: str = ""  # "threads" | "processes" | "memory" (the copy ceiling)
    start_method: str | None = None
    median_s: float | None = None
    p99_s: float | None = None
    # Distribution-free 95% intervals of the median and of the p99 (order statistics;
    # None: too few times, or a file from before they were kept). A p99's upper end needs
    # about 370 times: with fewer, [low, None] (its lower end alone, still at 97.5%).
    median_ci95_s: tuple[float, float] | None = None
    p99_ci95_s: tuple[float, float | None] | None = None

    def __post_init__(self) -> None:
        if self.status not in ENTRY_STATUSES:
            raise ValueError(f"status must be one of {ENTRY_STATUSES}, not {self.status!r}")
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not f.name.endswith(("_s", "_bytes", "_per_s")) or value is None:
                continue
            if f.name.endswith("_ci95_s"):
                if not isinstance(value, tuple) or len(value) != 2 or value[0] is None:
                    raise ValueError(f"{f.name} must be [low, high], not {value!r}")
                values: tuple[Any, ...] = tuple(v for v in value if v is not None)
            else:
                values = (value,)
            if any(not isinstance(v, (int, float)) or v < 0 or math.isnan(v) for v in values):
                raise ValueError(f"{f.name} must be a non-negative number, not {value!r}")
        if self.status == "ok" and self.error:
            raise ValueError("an ok entry carries no error")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls: type[_E], d: dict[str, Any]) -> _E:
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        for k in ("median_ci95_s", "p99_ci95_s"):
            if kw.get(k) is not None:
                kw[k] = tuple(kw[k])
        return cls(**kw)

    @property
    def median_value(self) -> float:
        """The median of an entry that has times (charts filter on ``ok`` first)."""
        if self.median_s is None:
            raise ValueError(f"{self.describe()} has no median time")
        return self.median_s

    @property
    def p99_value(self) -> float:
        if self.p99_s is None:
            raise ValueError(f"{self.describe()} has no p99 time")
        return self.p99_s

    @property
    def method(self) -> str:
        """Who did the work: ``thread``, ``subinterpreter``, or the process start method (or
        the model)."""
        named = {"threads": "thread", "interpreters": "subinterpreter"}.get(self.model)
        return named or self.start_method or self.model

    def describe(self) -> str:
        """One line naming the measurement, e.g. ``ipc pipe 65536 (fork)``."""
        parts = [str(getattr(self, k)) for k in self.label_fields
                 if getattr(self, k, None) is not None]
        return f"{self.suite} {' '.join(parts)} ({self.method})"


def timed(times: Sequence[float]) -> dict[str, Any]:
    """An entry's time fields from its measured times: the median and the p99, each with
    its distribution-free 95% interval (``stats.median_interval``, ``stats.quantile_interval``)."""
    lo, hi = stats.quantile_bounds(times, 0.99)
    return {"median_s": stats.median(times), "p99_s": stats.percentile(times, 99),
            "median_ci95_s": stats.median_interval(times),
            "p99_ci95_s": None if lo is None else (lo, hi)}


ENTRY_TYPES: dict[str, type[Entry]] = {}
E = TypeVar("E", bound=type[Entry])


def entry_type(cls: E) -> E:
    """Register the entry class of a cost suite under its ``suite`` name."""
    if cls.suite in ENTRY_TYPES:
        raise ValueError(f"suite {cls.suite!r} registered twice")
    ENTRY_TYPES[cls.suite] = cls
    return cls


@entry_type
@dataclass(frozen=True, kw_only=True)
class StartupEntry(Entry):
    """``what``: start_join (one worker), pool (a pool of ``workers``), or a lifecycle
    check — zombie, no_zombies, get_timeout — whose outcome is ``observed``."""

    suite: ClassVar[str] = "startup"
    title: ClassVar[str] = "worker start-up, pool creation, memory per worker, lifecycle checks"
    label_fields: ClassVar[tuple[str, ...]] = ("what", "workers")
    what: str
    workers: int = 1
    repeats: int = 0  # how many times it was measured
    min_s: float | None = None  # the fastest of the times
    stop_s: float | None = None  # closing and joining the pool
    uss_bytes: float | None = None  # per worker: memory only it uses
    pss_bytes: float | None = None  # per worker: its share of shared pages too
    observed: bool | None = None  # a lifecycle check's outcome (None: a timing)
    detail: str | None = None  # what was measured, or what a check saw, in words


@entry_type
@dataclass(frozen=True, kw_only=True)
class IpcEntry(Entry):
    """One transport at one payload size: round trips (``median_s``, ``p99_s``) and a
    one-way stream (``msgs_per_s``, ``bytes_per_s``)."""

    suite: ClassVar[str] = "ipc"
    title: ClassVar[str] = "IPC throughput and round trips across payload sizes"
    label_fields: ClassVar[tuple[str, ...]] = ("transport", "payload_bytes")
    transport: str
    payload_bytes: int
    round_trips: int = 0  # timed: median_s and p99_s are per round trip
    messages: int = 0  # of the one-way stream
    msgs_per_s: float | None = None  # the stream's messages per second
    bytes_per_s: float | None = None  # and payload bytes per second


@entry_type
@dataclass(frozen=True, kw_only=True)
class SyncEntry(Entry):
    """One synchronisation mechanism: ``median_s``/``p99_s`` of a round trip, that is
    two hand-overs (to the partner and back)."""

    suite: ClassVar[str] = "sync"
    title: ClassVar[str] = "hand-over cost of each synchronisation mechanism"
    label_fields: ClassVar[tuple[str, ...]] = ("mechanism",)
    mechanism: str
    round_trips: int = 0  # timed, each two hand-overs


@entry_type
@dataclass(frozen=True, kw_only=True)
class LatencyEntry(Entry):
    """Response time of a thread waiting on a loopback socket while ``cpu_workers``
    CPU-bound threads (``model`` threads) or processes (``model`` processes) run."""

    suite: ClassVar[str] = "latency"
    title: ClassVar[str] = "GIL latency: response time under CPU-bound threads or processes"
    label_fields: ClassVar[tuple[str, ...]] = ("cpu_workers",)
    cpu_workers: int
    switch_interval_s: float
    pings: int = 0  # sent to the waiting thread
    lost: int = 0  # not answered within a second
    max_s: float | None = None  # the slowest answer


