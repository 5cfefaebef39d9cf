"""The seed article's claims: each rule on made-up measurements (holds, fails, depends,
not measured)."""

from __future__ import annotations

import pytest

from bench.analysis import claims as F
from bench.suites import StartupEntry
from tests.helpers import MS, US, cell, verdict
from tests.helpers import ipc_entry as ipc
from tests.helpers import lat_entry as lat
from tests.helpers import suite_results as results
from tests.helpers import sync_entry as sync


@pytest.mark.parametrize("lock, expected", [(200 * US, F.HOLDS), (10 * US, F.FAILS)])
def test_pipe_and_queue_against_primitives(lock, expected):
    entries = [sync("pipe", "processes", 30 * US), sync("queue", "processes", 60 * US),
               *(sync(n, "processes", lock) for n in ("lock", "event", "semaphore",
                                                     "condition"))]
    assert verdict(F.pipe_queue_vs_primitives, results(sync=entries)) == expected


def test_pipe_and_queue_mixed_is_depends():
    entries = [sync("pipe", "processes", 30 * US), sync("queue", "processes", 60 * US),
               sync("lock", "processes", 10 * US), sync("event", "processes", 100 * US)]
    v, text = F.pipe_queue_vs_primitives(results(sync=entries))
    assert v == F.DEPENDS
    assert "Faster than both Pipe and Queue: lock" in text and "slower than both: event" in text


def test_sharing_costs_holds_fails_and_depends():
    def run(shm, mgr):
        return verdict(F.sharing_costs, results(ipc=[
            ipc("pipe", 64, 50 * US), ipc("pipe", 2**20, 500 * US),
            ipc("shared_memory", 64, shm[0]), ipc("shared_memory", 2**20, shm[1]),
            ipc("manager", 64, mgr[0]), ipc("manager", 2**20, mgr[1])]))

    assert run((60 * US, 600 * US), (200 * US, 2 * MS)) == F.HOLDS
    assert run((40 * US, 200 * US), (40 * US, 400 * US)) == F.FAILS
    assert run((60 * US, 200 * US), (200 * US, 2 * MS)) == F.DEPENDS


def test_gil_latency_rule():
    holds = [lat("threads", 0, 0.1 * MS), lat("threads", 2, 20 * MS), lat("processes", 2,
                                                                          0.2 * MS)]
    assert verdict(F.gil_latency, results(latency=holds)) == F.HOLDS
    fails = [lat("threads", 0, 0.1 * MS), lat("threads", 2, 1 * MS), lat("processes", 2,
                                                                         0.2 * MS)]
    assert verdict(F.gil_latency, results(latency=fails)) == F.FAILS
    other = [*holds, lat("threads", 2, 3 * MS, si=0.001)]
    assert "1 ms → p99 3 ms" in F.gil_latency(results(latency=other))[1]


def test_threads_on_cpu_and_processes_use_cores():
    no_gain = [cell("fib", "cpu", "serial", 1, 1.0), cell("fib", "cpu", "threads", 2, 1.02),
               cell("fib", "cpu", "pool_map", 2, 0.52)]
    r = results(no_gain)
    assert verdict(F.threads_on_cpu, r) == F.HOLDS
    assert verdict(F.processes_use_cores, r) == F.HOLDS
    assert "1.92×" in F.processes_use_cores(r)[1]  # 1.0 / 0.52, on 2 usable CPUs
    gain = [cell("fib", "cpu", "serial", 1, 1.0), cell("fib", "cpu", "threads", 2, 0.5),
            cell("fib", "cpu", "pool_map", 2, 1.0)]
    assert verdict(F.threads_on_cpu, results(gain)) == F.FAILS
    assert verdict(F.processes_use_cores, results(gain)) == F.FAILS
    io = [cell("sleep", "io", "serial", 1, 1.0), cell("sleep", "io", "threads", 4, 0.26)]
    assert verdict(F.threads_in_general, results(io)) == F.FAILS


def test_lifecycle_checks():
    seen = StartupEntry(what="zombie", model="processes", observed=True, detail="was zombie")
    clean = StartupEntry(what="no_zombies", model="processes", observed=True, detail="none")
    assert verdict(F.zombies, results(startup=[seen, clean])) == F.HOLDS
    unseen = StartupEntry(what="zombie", model="processes", observed=False, detail="gone")
    assert verdict(F.zombies, results(startup=[unseen])) == F.FAILS
    left = StartupEntry(what="no_zombies", model="processes", observed=False, detail="pid 7")
    assert "LEFT ZOMBIES" in F.zombies(results(startup=[seen, left]))[1]


def test_start_cost_and_apply_async():
    starts = [StartupEntry(what="start_join", model="threads", median_s=80 * US),
              StartupEntry(what="start_join", model="processes", start_method="fork",
                           median_s=2 * MS)]
    v, text = F.process_start_cost(results(startup=starts))
    assert v == F.HOLDS and "(25×)" in text
    fast = [sync("apply_async", "processes", 100 * US)]
    v, text = F.apply_async_fast(results(sync=fast))
    assert v == F.HOLDS and "5,000× inside" in text  # p99 200 µs against 1 s


def test_every_claim_says_how_to_measure_it_when_its_suite_did_not_run():
    got = F.findings(results())
    assert len(got) == len(F.CLAIMS)
    assert all(f.verdict == F.UNMEASURED and "gilbench run --suite" in f.evidence for f in got)
