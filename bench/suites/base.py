"""What the cost suites share: their declaration (``CostSuite``), partners, waits,
failed entries.

Every suite module (``startup``, ``ipc``, ``sync``, ``latency``) declares itself in one
``SUITE = CostSuite(...)``, and its entry point has the same signature (``SuiteRun``), so
the session runs any of them the same way::

    run(budget, usable_cpus, on_entry, timeout_s, *, start_method=None, workers=None)

``budget`` is the suite's own, for the run's profile (``CostSuite.budget``);
``start_method`` is the one the user chose (None: the platform's default);
``workers`` the run's worker counts. A suite uses what applies to it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from gilbench.bench.entries import Entry
from gilbench.bench.signals import children_ignore_ctrl_c
from gilbench.bench.strategies.base import (
    JOIN_S,
    CellFailure,
    Deadline,
    MpContext,
    WorkerDied,
    describe,
    exit_reason,
)

E = TypeVar("E", bound=Entry)


class SuiteRun(Protocol):
    """The ``run`` function every cost suite module defines (``budget``: its own)."""

    def __call__(self, budget: Any, usable_cpus: int, on_entry: Callable[[Any], None],
                 timeout_s: float, *, start_method: str | None = None,
                 workers: tuple[int, ...] | None = None) -> None: ...


KIB, MIB = 1024, 1024 * 1024


@dataclass(frozen=True)
class CostSuite:
    """What a cost suite declares about itself, in its own module (``SUITE``), so that
    adding one touches no list elsewhere: its ``run``; its budget per profile (a
    dataclass of its own: how much it measures); about how long it takes per profile
    (``seconds``: the run's estimate and progress bar use it); and the phase a test can
    press Ctrl-C in (``suite-<name>``)."""

    name: str
    run: SuiteRun
    budgets: Mapping[str, Any]
    seconds: Mapping[str, float]

    @property
    def phase(self) -> str:
        return f"suite-{self.name}"

    def budget(self, profile: str) -> Any:
        """The budget of ``profile`` (a profile the suite does not name: standard's)."""
        return self.budgets.get(profile, self.budgets["standard"])

    def expected_s(self, profile: str) -> float:
        """About how long it takes at ``profile`` (measured on the 2-CPU VM)."""
        return float(self.seconds.get(profile, self.seconds["standard"]))


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


