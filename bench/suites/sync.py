"""sync: what one hand-over costs with each synchronisation mechanism.

Two parties play ping-pong: the measuring side hands a turn to its partner
(a thread, or a process) and waits until the partner hands it back. One round
trip is two hand-overs; ``median_s`` and ``p99_s`` are per round trip. The
same mechanisms run for threads (``threading``/``queue`` primitives) and for
processes (their ``multiprocessing`` counterparts):

- ``lock`` / ``semaphore``: two Locks (two Semaphores) released by one party
  and acquired by the other;
- ``event``: two Events, set by one party, waited on and cleared by the other;
- ``condition``: one Condition over a shared turn number;
- ``value`` / ``array``: a shared Value (an Array of 64 doubles) written and
  polled under its own lock — no way to sleep until it changes, so the
  waiting side spins (contending for the lock, which hands the GIL over);
- ``raw_value``: a RawValue polled with no lock: with threads the spinner holds
  the GIL until the interpreter forces a switch;
- ``manager``: two Events of a Manager, through proxies;
- ``queue`` / ``pipe``: a token through two queues / one duplex Pipe;
- ``apply_async``: ``Pool.apply_async(f, (10,)).get(timeout=...)`` (for threads,
  multiprocessing.pool.ThreadPool), the article's sample.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.pool
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from gilbench.bench.entries import SyncEntry, timed
from gilbench.bench.signals import children_ignore_ctrl_c, reraise_ctrl_c
from gilbench.bench.strategies.base import (
    Deadline,
    MpContext,
    init_worker,
)
from gilbench.bench.suites.base import CostSuite, Partner, failed, partner, wait_for

Ctx = MpContext  # a multiprocessing context
WAIT_S = 60.0  # longest the partner waits for its turn before giving up
WARMUP = 5
STOP = -1


@dataclass(frozen=True)
class SyncBudget:
    """How much the sync suite measures at a profile."""

    round_trips: int  # timed hand-overs, at most
    seconds: float  # time cap of one measurement's timed loop


class Mechanism:
    """A ping-pong through one primitive. ``a_*`` run on the measuring side, ``b_*``
    on the partner; ``b_wait`` returns False when told to stop (or on timeout)."""

    name: ClassVar[str]
    models: ClassVar[tuple[str, ...]] = ("threads", "processes")

    def __init__(self, ctx: Ctx | None) -> None:
        self.ctx = ctx  # None: threads

    def a_hand(self, stop: bool = False) -> None:
        raise NotImplementedError

    def a_wait(self, timeout: float) -> bool:
        raise NotImplementedError

    def b_wait(self) -> bool:
        raise NotImplementedError

    def b_hand(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


MECHANISMS: dict[str, type[Mechanism]] = {}


def mechanism(cls: type[Mechanism]) -> type[Mechanism]:
    MECHANISMS[cls.name] = cls
    return cls


class _Flagged(Mechanism):
    """Mechanisms that carry no data say "stop" through a shared flag."""

    def __init__(self, ctx: Ctx | None) -> None:
        super().__init__(ctx)
        self.flag = (ctx or multiprocessing).RawValue("b", 0)

    def a_hand(self, stop: bool = False) -> None:
        if stop:
            self.flag.value = 1
        self._hand_to_b()

    def b_wait(self) -> bool:
        return self._wait_for_a() and not self.flag.value

    def _hand_to_b(self) -> None:
        raise NotImplementedError

    def _wait_for_a(self) -> bool:
        raise NotImplementedError


@mechanism
class LockPingPong(_Flagged):
    name = "lock"

    def __init__(self, ctx: Ctx | None) -> None:
        super().__init__(ctx)
        make = ctx.Lock if ctx else threading.Lock
        self.to_b, self.to_a = make(), make()
        self.to_b.acquire()
        self.to_a.acquire()

    def _hand_to_b(self) -> None:
        self.to_b.release()

    def a_wait(self, timeout: float) -> bool:
        return self.to_a.acquire(timeout=timeout)

    def _wait_for_a(self) -> bool:
        return self.to_b.acquire(timeout=WAIT_S)

    def b_hand(self) -> None:
        self.to_a.release()


@mechanism
class SemaphorePingPong(LockPingPong):
    name = "semaphore"

    def __init__(self, ctx: Ctx | None) -> None:
        _Flagged.__init__(self, ctx)
        make = ctx.Semaphore if ctx else threading.Semaphore
        self.to_b, self.to_a = make(0), make(0)


@mechanism
class EventPingPong(_Flagged):
    name = "event"

    def __init__(self, ctx: Ctx | None) -> None:
        super().__init__(ctx)
        make = ctx.Event if ctx else threading.Event
        self.to_b, self.to_a = make(), make()

    def _hand_to_b(self) -> None:
        self.to_b.set()

    def a_wait(self, timeout: float) -> bool:
        if not self.to_a.wait(timeout):
            return False
        self.to_a.clear()
        return True

    def _wait_for_a(self) -> bool:
        if not self.to_b.wait(WAIT_S):
            return False
        self.to_b.clear()
        return True

    def b_hand(self) -> None:
        self.to_a.set()


@mechanism
class ManagerPingPong(EventPingPong):
    name = "manager"

    def __init__(self, ctx: Ctx | None) -> None:
        _Flagged.__init__(self, ctx)
        with children_ignore_ctrl_c():
            self.manager = (ctx or multiprocessing.get_context()).Manager()
        self.to_b, self.to_a = self.manager.Event(), self.manager.Event()

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "manager"}

    def close(self) -> None:
        if hasattr(self, "manager"):
            self.manager.shutdown()


@mechanism
class ConditionPingPong(_Flagged):
    name = "condition"

    def __init__(self, ctx: Ctx | None) -> None:
        super().__init__(ctx)
        self.cond = ctx.Condition() if ctx else threading.Condition()
        self.turn = (ctx or multiprocessing).RawValue("i", 0)  # 0: a's turn, 1: b's

    def _hand_to_b(self) -> None:
        with self.cond:
            self.turn.value = 1
            self.cond.notify()

    def a_wait(self, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.turn.value == 0, timeout)

    def _wait_for_a(self) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.turn.value == 1, WAIT_S)

    def b_hand(self) -> None:
        with self.cond:
            self.turn.value = 0
            self.cond.notify()


@mechanism
class ValuePingPong(_Flagged):
    """A synchronized Value polled under its lock: the waiting side spins."""

    name = "value"

    def __init__(self, ctx: Ctx | None) -> None:
        super().__init__(ctx)
        self.turn = (ctx or multiprocessing).Value("i", 0)  # with its own RLock

    def _set(self, turn: int) -> None:
        with self.turn.get_lock():
            self.turn.value = turn

    def _spin_until(self, turn: int, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while True:
            with self.turn.get_lock():
                if self.turn.value == turn:
                    return True
            if time.monotonic() > end:
                return False

    def _hand_to_b(self) -> None:
        self._set(1)

    def a_wait(self, timeout: float) -> bool:
        return self._spin_until(0, timeout)

    def _wait_for_a(self) -> bool:
        return self._spin_until(1, WAIT_S)

    def b_hand(self) -> None:
        self._set(0)


@mechanism
class RawValuePingPong(ValuePingPong):
    """A RawValue polled with no lock at all: the cheapest hand-over between processes
    (shared memory, two CPUs spinning); between threads the spinner holds the GIL
    until the interpreter forces a switch (``sys.getswitchinterval()``)."""

    name = "raw_value"

    def __init__(self, ctx: Ctx | None) -> None:
        _Flagged.__init__(self, ctx)
        self.turn = (ctx or multiprocessing).RawValue("i", 0)

    def _set(self, turn: int) -> None:
        self.turn.value = turn

    def _spin_until(self, turn: int, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while self.turn.value != turn:
            if time.monotonic() > end:
                return False
        return True


@mechanism
class ArrayPingPong(ValuePingPong):
    """A synchronized Array of 64 doubles: the data written and read under its lock,
    slot 0 saying whose turn it is."""

    name = "array"

    def __init__(self, ctx: Ctx | None) -> None:
        _Flagged.__init__(self, ctx)
        self.turn = (ctx or multiprocessing).Array("d", 65)

    def _set(self, turn: int) -> None:
        with self.turn.get_lock():
            self.turn[1:] = [float(turn)] * 64
            self.turn[0] = turn

    def _spin_until(self, turn: int, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while True:
            with self.turn.get_lock():
                if self.turn[0] == turn:
                    self.turn[1:]  # read what was handed over
                    return True
            if time.monotonic() > end:
                return False


@mechanism
class QueuePingPong(Mechanism):
    name = "queue"

    def __init__(self, ctx: Ctx | None) -> None:
        super().__init__(ctx)
        make = ctx.Queue if ctx else queue.Queue
        # A multiprocessing Queue between processes, a queue.Queue between threads.
        self.to_b: Any = make()
        self.to_a: Any = make()

    def a_hand(self, stop: bool = False) -> None:
        self.to_b.put(STOP if stop else 1)

    def a_wait(self, timeout: float) -> bool:
        try:
            self.to_a.get(timeout=timeout)
            return True
        except queue.Empty:
            return False

    def b_wait(self) -> bool:
        try:
            return self.to_b.get(timeout=WAIT_S) != STOP
        except queue.Empty:
            return False

    def b_hand(self) -> None:
        self.to_a.put(1)

    def close(self) -> None:
        if self.ctx is not None:
            for q in (self.to_b, self.to_a):
                q.cancel_join_thread()
                q.close()


@mechanism
class PipePingPong(Mechanism):
    name = "pipe"

    def __init__(self, ctx: Ctx | None) -> None:
        super().__init__(ctx)
        self.a, self.b = (ctx or multiprocessing).Pipe(duplex=True)

    def a_hand(self, stop: bool = False) -> None:
        self.a.send(STOP if stop else 1)

    def a_wait(self, timeout: float) -> bool:
        if not self.a.poll(timeout):
            return False
        self.a.recv()
        return True

    def b_wait(self) -> bool:
        return bool(self.b.poll(WAIT_S)) and self.b.recv() != STOP

    def b_hand(self) -> None:
        self.b.send(1)

    def close(self) -> None:
        self.a.close()
        self.b.close()


def _square(x: int) -> int:
    return x * x


@mechanism
class ApplyAsync(Mechanism):
    """The partner is the pool's worker; no partner of our own."""

    name = "apply_async"

    def __init__(self, ctx: Ctx | None) -> None:
        super().__init__(ctx)
        with children_ignore_ctrl_c():
            self.pool = (multiprocessing.pool.ThreadPool(1) if ctx is None else
                         ctx.Pool(1, initializer=init_worker))
        self.pending: Any = None

    def a_hand(self, stop: bool = False) -> None:
        self.pending = None if stop else self.pool.apply_async(_square, (10,))

    def a_wait(self, timeout: float) -> bool:
        try:
            return self.pending.get(timeout=timeout) == 100
        except multiprocessing.TimeoutError:
            return False

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()


def _serve(m: Mechanism, in_process: bool) -> None:
    if in_process:
        init_worker()
    while m.b_wait():
        m.b_hand()


def measure(name: str, model: str, budget: SyncBudget, ctx: Ctx,
            deadline: Deadline) -> SyncEntry:
    m = MECHANISMS[name](ctx if model == "processes" else None)
    times: list[float] = []
    try:
        who: Partner | None = None
        cap = time.monotonic() + budget.seconds

        def one_round() -> None:
            t0 = time.perf_counter()
            m.a_hand()
            wait_for(m.a_wait, deadline, who, f"waiting for the {name} hand-over")
            times.append(time.perf_counter() - t0)

        def rounds() -> None:
            for _ in range(WARMUP):
                one_round()
            times.clear()
            while len(times) < budget.round_trips and (time.monotonic() < cap
                                                        or len(times) < 5):
                one_round()

        if isinstance(m, ApplyAsync):
            rounds()
        else:
            args = (m, model == "processes")
            with partner(model, _serve, args, ctx) as who:
                try:
                    rounds()
                finally:
                    # Tell a live partner to stop. After a failure the last hand may still
                    # be untaken (a lock released twice raises): the partner is killed anyway.
                    if who.worker.is_alive():
                        with contextlib.suppress(ValueError, OSError, RuntimeError):
                            m.a_hand(stop=True)
    finally:
        m.close()
    return SyncEntry(mechanism=name, model=model,
                     start_method=ctx.get_start_method() if model == "processes" else None,
                     round_trips=len(times), **timed(times))


def run(budget: SyncBudget, usable_cpus: int, on_entry: Callable[[SyncEntry], None],
        timeout_s: float, start_method: str | None = None,
        mechanisms: tuple[str, ...] | None = None,
        workers: tuple[int, ...] | None = None) -> None:  # workers: not used here
    ctx = multiprocessing.get_context(start_method)
    for name in mechanisms or tuple(MECHANISMS):
        for model in MECHANISMS[name].models:
            try:
                entry = measure(name, model, budget, ctx, Deadline(timeout_s))
            except Exception as exc:
                reraise_ctrl_c()
                entry = failed(SyncEntry, exc, mechanism=name, model=model)
            on_entry(entry)


SUITE = CostSuite(
    name="sync", run=run,
    budgets={"smoke": SyncBudget(round_trips=20, seconds=0.3),
             "quick": SyncBudget(round_trips=300, seconds=1.0),
             "standard": SyncBudget(round_trips=1000, seconds=2.0),
             "full": SyncBudget(round_trips=3000, seconds=5.0)},
    # About how long it takes at each profile: measured on the 2-CPU VM.
    seconds={"smoke": 6, "quick": 6, "standard": 10, "full": 150},
)
