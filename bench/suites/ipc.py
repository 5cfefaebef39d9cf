"""ipc: how fast each transport moves data between two workers.

Every transport moves a ``bytes`` payload from one side and hands an equal
``bytes`` object to the other, so they are compared on the same job:

- ``thread_queue``: queue.Queue between two threads (the in-process baseline:
  only a reference moves);
- ``queue`` / ``simple_queue``: multiprocessing.Queue (pickled, sent by a
  feeder thread) and SimpleQueue (pickled, sent by the caller);
- ``pipe`` / ``pipe_bytes``: a Connection's send/recv (pickle) and
  send_bytes/recv_bytes (raw);
- ``shared_memory``: multiprocessing.shared_memory, one segment per direction
  written and read through numpy views, with a 1-byte Pipe message to say
  "ready" and another to say "read, you may overwrite";
- ``manager``: a Manager dict proxy — the payload goes to the manager's server
  process and back out — with a Pipe message naming the key.

For each payload size: round trips through an echo partner (``median_s``,
``p99_s``) and a one-way stream to a sink (``msgs_per_s``, ``bytes_per_s``).
``memcpy`` (a numpy copy, model ``memory``) is the physical ceiling.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import multiprocessing.shared_memory
import queue
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from gilbench.bench import stats
from gilbench.bench.entries import IpcEntry, timed
from gilbench.bench.signals import children_ignore_ctrl_c, reraise_ctrl_c
from gilbench.bench.strategies.base import (
    Deadline,
    MpContext,
    init_worker,
)
from gilbench.bench.suites.base import KIB, MIB, CostSuite, Partner, failed, partner, wait_for

Ctx = MpContext  # a multiprocessing context
PARTNER_WAIT_S = 60.0  # longest a side waits for the other before giving up


@dataclass(frozen=True)
class IpcBudget:
    """How much the ipc suite measures at a profile."""

    round_trips: int  # timed round trips, at most
    stream_bytes: int  # bytes streamed one way per measurement
    max_messages: int  # messages streamed, at most
    stream_repeats: int  # streams per measurement (median kept)
    payloads: tuple[int, ...]  # payload sizes in bytes
    seconds: float  # time cap of one measurement's timed loop

    def round_trips_for(self, payload: int) -> int:
        return max(5, min(self.round_trips, self.stream_bytes // (2 * max(1, payload))))

    def messages_for(self, payload: int) -> int:
        return max(4, min(self.max_messages, self.stream_bytes // max(1, payload)))


# ------------------------------------------------------------ endpoints
# One object per side. recv(timeout) raises TimeoutError when nothing came;
# the partner side calls it with timeout None.


class QueueEnd:
    def __init__(self, inbox: Any, outbox: Any, simple: bool = False) -> None:
        self.inbox, self.outbox, self.simple = inbox, outbox, simple

    def send(self, data: bytes) -> None:
        self.outbox.put(data)

    def recv(self, timeout: float | None = None) -> bytes:
        if self.simple:
            if timeout is not None and not self.inbox._reader.poll(timeout):
                raise TimeoutError
            return self.inbox.get()
        try:
            return self.inbox.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError from None

    def close(self) -> None:
        pass


class PipeEnd:
    def __init__(self, conn: Any, raw: bool) -> None:
        self.conn, self.raw = conn, raw

    def send(self, data: bytes) -> None:
        if self.raw:
            self.conn.send_bytes(data)
        else:
            self.conn.send(data)

    def recv(self, timeout: float | None = None) -> bytes:
        if timeout is not None and not self.conn.poll(timeout):
            raise TimeoutError
        return self.conn.recv_bytes() if self.raw else self.conn.recv()

    def close(self) -> None:
        pass


class SharedMemoryEnd:
    """Writes into ``out_name`` and reads ``in_name``; one message in flight per direction."""

    def __init__(self, out_name: str, in_name: str, out_ctl: Any, in_ctl: Any) -> None:
        self.names = (out_name, in_name)
        self.out_ctl, self.in_ctl = out_ctl, in_ctl
        self.in_flight = False
        self._views: tuple[Any, ...] | None = None

    def _open(self) -> tuple[Any, ...]:
        """(out segment, in segment, out view, in view), attached on first use, in the
        process that uses it."""
        if self._views is not None:
            return self._views
        out_seg = multiprocessing.shared_memory.SharedMemory(self.names[0])
        in_seg = multiprocessing.shared_memory.SharedMemory(self.names[1])
        self._views = (out_seg, in_seg, np.ndarray(out_seg.size, np.uint8, out_seg.buf),
                       np.ndarray(in_seg.size, np.uint8, in_seg.buf))
        return self._views

    def send(self, data: bytes) -> None:
        views = self._open()
        if self.in_flight:  # wait until the reader has copied the previous message out
            if not self.out_ctl.poll(PARTNER_WAIT_S):
                raise TimeoutError
            self.out_ctl.recv_bytes()
        out = views[2]
        out[:len(data)] = np.frombuffer(data, np.uint8)
        self.out_ctl.send_bytes(len(data).to_bytes(8, "little"))
        self.in_flight = True

    def recv(self, timeout: float | None = None) -> bytes:
        views = self._open()
        if timeout is not None and not self.in_ctl.poll(timeout):
            raise TimeoutError
        n = int.from_bytes(self.in_ctl.recv_bytes(), "little")
        data = views[3][:n].tobytes()
        self.in_ctl.send_bytes(b"r")
        return data

    def close(self) -> None:
        if self._views is not None:
            out_seg, in_seg = self._views[:2]
            self._views = None  # the numpy views must go before the segments close
            out_seg.close()
            in_seg.close()


class ManagerEnd:
    def __init__(self, outbox: Any, inbox: Any, conn: Any) -> None:
        self.outbox, self.inbox, self.conn = outbox, inbox, conn
        self.sent = 0

    def send(self, data: bytes) -> None:
        self.sent += 1
        self.outbox[self.sent] = data
        self.conn.send_bytes(self.sent.to_bytes(8, "little"))

    def recv(self, timeout: float | None = None) -> bytes:
        if timeout is not None and not self.conn.poll(timeout):
            raise TimeoutError
        return self.inbox.pop(int.from_bytes(self.conn.recv_bytes(), "little"))

    def close(self) -> None:
        pass


# ------------------------------------------------------------ transports


class Transport:
    name: ClassVar[str]
    model: ClassVar[str] = "processes"
    description: ClassVar[str]

    @contextmanager
    def ends(self, ctx: Ctx, max_bytes: int) -> Iterator[tuple[Any, Any]]:
        raise NotImplementedError
        yield


TRANSPORTS: dict[str, Transport] = {}


def transport(cls: type[Transport]) -> type[Transport]:
    TRANSPORTS[cls.name] = cls()
    return cls


@transport
class ThreadQueue(Transport):
    name, model, description = "thread_queue", "threads", "queue.Queue between two threads"

    @contextmanager
    def ends(self, ctx: Ctx, max_bytes: int) -> Iterator[tuple[Any, Any]]:
        a: queue.Queue[Any] = queue.Queue()
        b: queue.Queue[Any] = queue.Queue()
        yield QueueEnd(b, a), QueueEnd(a, b)


def _closing_queues(*qs: Any) -> Callable[[], None]:
    def close() -> None:
        for q in qs:
            q.cancel_join_thread()  # a partner killed mid-run must not hang the exit
            q.close()
    return close


@transport
class MpQueue(Transport):
    name, description = "queue", "multiprocessing.Queue (feeder thread, pickle)"

    @contextmanager
    def ends(self, ctx: Ctx, max_bytes: int) -> Iterator[tuple[Any, Any]]:
        a, b = ctx.Queue(), ctx.Queue()
        try:
            yield QueueEnd(b, a), QueueEnd(a, b)
        finally:
            _closing_queues(a, b)()


@transport
class MpSimpleQueue(Transport):
    name, description = "simple_queue", "multiprocessing.SimpleQueue (pickle, no feeder)"

    @contextmanager
    def ends(self, ctx: Ctx, max_bytes: int) -> Iterator[tuple[Any, Any]]:
        a, b = ctx.SimpleQueue(), ctx.SimpleQueue()
        try:
            yield QueueEnd(b, a, simple=True), QueueEnd(a, b, simple=True)
        finally:
            a.close()
            b.close()


@transport
class MpPipe(Transport):
    name, description = "pipe", "multiprocessing.Pipe, send/recv (pickle)"
    raw = False

    @contextmanager
    def ends(self, ctx: Ctx, max_bytes: int) -> Iterator[tuple[Any, Any]]:
        x, y = ctx.Pipe(duplex=True)
        try:
            yield PipeEnd(x, self.raw), PipeEnd(y, self.raw)
        finally:
            x.close()
            y.close()


@transport
class MpPipeBytes(MpPipe):
    name, description = "pipe_bytes", "multiprocessing.Pipe, send_bytes/recv_bytes (no pickle)"
    raw = True


@transport
class SharedMemory(Transport):
    name, description = "shared_memory", ("multiprocessing.shared_memory + numpy views, "
                                          "Pipe for ready/read signals")

    @contextmanager
    def ends(self, ctx: Ctx, max_bytes: int) -> Iterator[tuple[Any, Any]]:
        with ExitStack() as stack:
            segs = []
            for _ in range(2):
                seg = multiprocessing.shared_memory.SharedMemory(create=True,
                                                                 size=max(1, max_bytes))
                stack.callback(seg.unlink)
                stack.callback(seg.close)
                segs.append(seg)
            ab = ctx.Pipe(duplex=True)  # a writes, b reads
            ba = ctx.Pipe(duplex=True)
            for conn in (*ab, *ba):
                stack.callback(conn.close)
            a = SharedMemoryEnd(segs[0].name, segs[1].name, ab[0], ba[0])
            b = SharedMemoryEnd(segs[1].name, segs[0].name, ba[1], ab[1])
            stack.callback(a.close)
            yield a, b


@transport
class Manager(Transport):
    name, description = "manager", "multiprocessing.Manager dict proxies (via the server)"

    @contextmanager
    def ends(self, ctx: Ctx, max_bytes: int) -> Iterator[tuple[Any, Any]]:
        with children_ignore_ctrl_c():
            manager = ctx.Manager()
        with manager:
            ab, ba = manager.dict(), manager.dict()
            x, y = ctx.Pipe(duplex=True)
            try:
                yield ManagerEnd(ab, ba, x), ManagerEnd(ba, ab, y)
            finally:
                x.close()
                y.close()


# ------------------------------------------------------------ the partner


def _serve(end: Any, round_trips: int, streams: int, messages: int, in_process: bool) -> None:
    """Echo ``round_trips`` messages, then sink ``streams`` x ``messages`` and ack each.

    Its waits time out (a thread partner must end by itself if the measuring
    side gives up); the measuring side waits the same way, so both pay alike.
    """
    if in_process:
        init_worker()
    try:
        for _ in range(round_trips):
            end.send(end.recv(PARTNER_WAIT_S))
        for _ in range(streams):
            for _ in range(messages):
                end.recv(PARTNER_WAIT_S)
            end.send(b"k")
    except (TimeoutError, EOFError, OSError):
        pass  # the measuring side gave up or went away
    finally:
        end.close()


def _recv(end: Any, deadline: Deadline, who: Partner) -> bytes:
    box: list[bytes] = []

    def ready(timeout: float) -> bool:
        try:
            box.append(end.recv(timeout))
            return True
        except TimeoutError:
            return False

    wait_for(ready, deadline, who, "waiting for the partner")
    return box[0]


WARMUP = 3


def measure(t: Transport, payload_bytes: int, budget: IpcBudget, ctx: Ctx,
            deadline: Deadline) -> IpcEntry:
    payload = np.random.default_rng(payload_bytes).bytes(payload_bytes)
    trips = budget.round_trips_for(payload_bytes)
    messages = budget.messages_for(payload_bytes)
    streams = budget.stream_repeats
    times, stream_times = [], []
    with t.ends(ctx, payload_bytes) as (mine, theirs):
        args = (theirs, WARMUP + trips, streams, messages, t.model == "processes")
        with partner(t.model, _serve, args, ctx) as who:
            try:
                echoed = payload
                cap = time.monotonic() + budget.seconds
                for i in range(WARMUP + trips):
                    t0 = time.perf_counter()
                    mine.send(payload)
                    echoed = _recv(mine, deadline, who)
                    if i >= WARMUP:
                        times.append(time.perf_counter() - t0)
                    if time.monotonic() > cap and len(times) >= 5:
                        # out of time: finish the partner's count untimed and tiny
                        for _ in range(WARMUP + trips - i - 1):
                            mine.send(b"")
                            _recv(mine, deadline, who)
                        break
                if echoed != payload:
                    raise ValueError("the echoed payload differs from the one sent")
                for _ in range(streams):
                    t0 = time.perf_counter()
                    for _ in range(messages):
                        mine.send(payload)
                    _recv(mine, deadline, who)
                    stream_times.append(time.perf_counter() - t0)
            finally:
                mine.close()
    stream_s = stats.median(stream_times)
    return IpcEntry(transport=t.name, model=t.model,
                    start_method=ctx.get_start_method() if t.model == "processes" else None,
                    payload_bytes=payload_bytes, round_trips=len(times), messages=messages,
                    **timed(times),
                    msgs_per_s=messages / stream_s, bytes_per_s=messages * payload_bytes / stream_s)


def memcpy(payload_bytes: int, budget: IpcBudget) -> IpcEntry:
    """The machine's memory copy bandwidth at this size: a numpy copy into a warm buffer."""
    src = np.frombuffer(np.random.default_rng(0).bytes(payload_bytes), np.uint8)
    dst = np.empty_like(src)
    reps = max(5, min(2000, budget.stream_bytes // max(1, payload_bytes)))
    np.copyto(dst, src)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        times.append(time.perf_counter() - t0)
    med = stats.median(times)
    return IpcEntry(transport="memcpy", model="memory", payload_bytes=payload_bytes,
                    messages=reps, **timed(times),
                    msgs_per_s=1 / med, bytes_per_s=payload_bytes / med)


def run(budget: IpcBudget, usable_cpus: int, on_entry: Callable[[IpcEntry], None],
        timeout_s: float, start_method: str | None = None,
        transports: tuple[str, ...] | None = None,
        workers: tuple[int, ...] | None = None) -> None:  # workers: not used here
    ctx = multiprocessing.get_context(start_method)
    for size in budget.payloads:
        on_entry(memcpy(size, budget))
    for name in transports or tuple(TRANSPORTS):
        t = TRANSPORTS[name]
        for size in budget.payloads:
            try:
                entry = measure(t, size, budget, ctx, Deadline(timeout_s))
            except Exception as exc:
                reraise_ctrl_c()
                entry = failed(IpcEntry, exc, transport=t.name, model=t.model,
                               payload_bytes=size)
            on_entry(entry)


SUITE = CostSuite(
    name="ipc", run=run,
    budgets={
        "smoke": IpcBudget(round_trips=20, stream_bytes=2 * MIB, max_messages=50,
                           stream_repeats=1, payloads=(64, 64 * KIB, MIB), seconds=0.3),
        "quick": IpcBudget(round_trips=300, stream_bytes=64 * MIB, max_messages=2000,
                           stream_repeats=3, payloads=(64, 4 * KIB, 256 * KIB, MIB, 16 * MIB),
                           seconds=1.0),
        "standard": IpcBudget(round_trips=1000, stream_bytes=128 * MIB, max_messages=5000,
                              stream_repeats=5, payloads=(64, KIB, 16 * KIB, 256 * KIB, MIB,
                                                          4 * MIB, 32 * MIB), seconds=2.0),
        "full": IpcBudget(round_trips=3000, stream_bytes=256 * MIB, max_messages=20000,
                          stream_repeats=7, payloads=(64, KIB, 16 * KIB, 256 * KIB, MIB,
                                                      4 * MIB, 32 * MIB, 64 * MIB),
                          seconds=5.0)},
    # About how long it takes at each profile: measured on the 2-CPU VM.
    seconds={"smoke": 6, "quick": 8, "standard": 60, "full": 150},
)
