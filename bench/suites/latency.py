"""latency: how long a waiting thread takes to respond while CPU-bound work runs.

The GIL's other cost, measured as CPython's old ``Tools/ccbench`` did: a
*host* process runs a responder thread blocked on a loopback UDP socket; the
gilbench process (which holds no GIL contention of its own) sends it small
pings at irregular intervals and times each reply. Meanwhile ``cpu_workers``
pure-Python busy loops run either as threads inside the host (they compete
with the responder for the host's GIL) or as separate processes (they only
compete for CPUs). The host's ``sys.setswitchinterval`` is varied: it is how
long a thread waiting for the GIL waits before it forces a switch.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import random
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from gilbench.bench.entries import LatencyEntry, timed
from gilbench.bench.signals import children_ignore_ctrl_c, reraise_ctrl_c
from gilbench.bench.strategies.base import (
    JOIN_S,
    Deadline,
    MpContext,
    init_worker,
)
from gilbench.bench.suites.base import CostSuite, Partner, failed, partner, recv_conn

Ctx = MpContext  # a multiprocessing context
PING_TIMEOUT_S = 1.0  # a ping not answered by then is counted as lost
GAP_S = (0.0005, 0.003)  # pause between pings, drawn at random so they do not lock in phase


@dataclass(frozen=True)
class LatencyBudget:
    """How much the latency suite measures at a profile."""

    pings: int  # pings per configuration, at most
    switch_intervals: tuple[float, ...]  # sys.setswitchinterval values
    seconds: float  # time cap of one measurement's timed loop


def _burn(stop: Any) -> None:
    """Pure-Python CPU work until told to stop (holds the GIL while it runs)."""
    while not stop.is_set():
        x = 0
        for i in range(2000):
            x += i * i


def _burn_process(stop: Any) -> None:
    init_worker()
    _burn(stop)


def _respond(sock: socket.socket) -> None:
    while True:
        data, addr = sock.recvfrom(64)
        if data == b"stop":
            return
        sock.sendto(data, addr)


def _host(conn: Any, cpu_threads: int, switch_interval_s: float) -> None:
    init_worker()
    sys.setswitchinterval(switch_interval_s)
    stop = threading.Event()
    burners = [threading.Thread(target=_burn, args=(stop,), daemon=True)
               for _ in range(cpu_threads)]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        responder = threading.Thread(target=_respond, args=(sock,), daemon=True)
        responder.start()
        for t in burners:
            t.start()
        conn.send(sock.getsockname()[1])
        with contextlib.suppress(EOFError, OSError):
            conn.poll(3600)  # until the measuring side says stop (or goes away)
        stop.set()
        for t in burners:
            t.join(JOIN_S)
        responder.join(JOIN_S)


@contextlib.contextmanager
def _burner_processes(ctx: Ctx, n: int) -> Iterator[None]:
    stop = ctx.Event()
    procs = [ctx.Process(target=_burn_process, args=(stop,), daemon=True,
                         name="gilbench-burner") for _ in range(n)]
    try:
        with children_ignore_ctrl_c():
            for p in procs:
                p.start()
        yield
    finally:
        stop.set()
        for p in procs:
            if p.pid is not None:
                p.join(JOIN_S)
                if p.is_alive():
                    p.kill()
                    p.join(JOIN_S)


def _ping(port: int, budget: LatencyBudget, deadline: Deadline, who: Partner,
          rng: random.Random) -> tuple[list[float], int]:
    times: list[float] = []
    lost = 0
    cap = time.monotonic() + budget.seconds * 3
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(("127.0.0.1", port))
        sock.settimeout(PING_TIMEOUT_S)
        for seq in range(budget.pings):
            msg = seq.to_bytes(4, "little")
            t0 = time.perf_counter()
            sock.send(msg)
            try:
                while sock.recv(64) != msg:  # a late reply to a lost ping: skip it
                    pass
                times.append(time.perf_counter() - t0)
            except TimeoutError:
                lost += 1
                who.check()
            deadline.check("pinging the responder")
            if time.monotonic() > cap and len(times) >= 10:
                break
            time.sleep(rng.uniform(*GAP_S))
        with contextlib.suppress(OSError):
            sock.send(b"stop")
    return times, lost


def measure(model: str, cpu_workers: int, switch_interval_s: float, budget: LatencyBudget, ctx: Ctx,
            deadline: Deadline) -> LatencyEntry:
    here, there = ctx.Pipe(duplex=True)
    threads = cpu_workers if model == "threads" else 0
    procs = cpu_workers if model == "processes" else 0
    try:
        with _burner_processes(ctx, procs), partner(
                "processes", _host, (there, threads, switch_interval_s), ctx) as who:
            port = recv_conn(here, deadline, who, "starting the responder")
            time.sleep(0.05)  # let the CPU-bound workers get going
            try:
                times, lost = _ping(port, budget, deadline, who, random.Random(cpu_workers))
            finally:
                here.send(b"stop")
    finally:
        here.close()
        there.close()
    if not times:
        raise TimeoutError(f"no ping of {lost} was answered within {PING_TIMEOUT_S:g} s")
    return LatencyEntry(model=model, start_method=ctx.get_start_method(),
                        cpu_workers=cpu_workers, switch_interval_s=switch_interval_s,
                        pings=len(times), lost=lost, max_s=max(times), **timed(times))


def loads(usable_cpus: int) -> list[int]:
    """0, 1, 2, 4 ... up to the usable CPUs: the number of busy CPU workers."""
    counts = {0, 1, usable_cpus}
    n = 2
    while n <= usable_cpus:
        counts.add(n)
        n *= 2
    return sorted(counts)


def run(budget: LatencyBudget, usable_cpus: int, on_entry: Callable[[LatencyEntry], None],
        timeout_s: float, start_method: str | None = None,
        workers: tuple[int, ...] | None = None) -> None:  # workers: not used here
    ctx = multiprocessing.get_context(start_method)
    default_interval = sys.getswitchinterval()
    intervals = sorted({*budget.switch_intervals, default_interval})
    configs: list[tuple[str, int, float]] = []
    for n in loads(usable_cpus):
        for si in intervals:
            configs.append(("threads", n, si))
        if n:
            configs.append(("processes", n, default_interval))
    for model, n, si in configs:
        fields: dict[str, Any] = dict(model=model, cpu_workers=n, switch_interval_s=si)
        try:
            entry = measure(model, n, si, budget, ctx, Deadline(timeout_s))
        except Exception as exc:
            reraise_ctrl_c()
            entry = failed(LatencyEntry, exc, **fields)
        on_entry(entry)


SUITE = CostSuite(
    name="latency", run=run,
    budgets={"smoke": LatencyBudget(pings=20, switch_intervals=(0.005,), seconds=0.3),
             "quick": LatencyBudget(pings=200, switch_intervals=(0.001, 0.005, 0.02),
                                    seconds=1.0),
             "standard": LatencyBudget(pings=500, switch_intervals=(0.001, 0.005, 0.02),
                                       seconds=2.0),
             "full": LatencyBudget(pings=2000, switch_intervals=(0.0005, 0.001, 0.005, 0.02,
                                                                 0.05), seconds=5.0)},
    # About how long it takes at each profile: measured on the 2-CPU VM.
    seconds={"smoke": 6, "quick": 6, "standard": 35, "full": 150},
)
