"""The seed article's claims: each rule on made-up measurements (holds, fails, depends,
not measured)."""

from __future__ import annotations

import dataclasses

import pytest

from gilbench.bench.analysis import claims as F
from gilbench.bench.suites import StartupEntry
from tests.helpers import MS, US, around, cell, ratios_cell, verdict
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
    assert "Surely faster than both Pipe and Queue: lock" in text
    assert "surely slower than both: event" in text


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
    # Threads twice as fast on pure Python: only where no GIL held them (on a GIL build
    # the cell is above its 1x ceiling and decides nothing).
    assert verdict(F.threads_on_cpu, without_gil(results(gain))) == F.FAILS
    assert verdict(F.threads_on_cpu, results(gain)) == F.UNMEASURED
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
    starts = [StartupEntry(what="start_join", model="threads", median_s=80 * US,
                           median_ci95_s=around(80 * US)),
              StartupEntry(what="start_join", model="processes", start_method="fork",
                           median_s=2 * MS, median_ci95_s=around(2 * MS))]
    v, text = F.process_start_cost(results(startup=starts))
    assert v == F.HOLDS and "(25×)" in text
    # A file from before the intervals were kept: the same medians decide nothing.
    bare = [dataclasses.replace(e, median_ci95_s=None) for e in starts]
    v, text = F.process_start_cost(results(startup=bare))
    assert v == F.CANT_TELL and "no 95% intervals" in text
    fast = [sync("apply_async", "processes", 100 * US)]
    v, text = F.apply_async_fast(results(sync=fast))
    assert v == F.HOLDS and "5,000× inside" in text  # p99 200 µs against 1 s


def test_every_claim_says_how_to_measure_it_when_its_suite_did_not_run():
    got = F.findings(results())
    assert len(got) == len(F.CLAIMS)
    assert all(f.verdict == F.UNMEASURED and "gilbench run --suite" in f.evidence for f in got)


# ------------------------------------------------------------ speedup rules, every branch


def gain(workload, kind, strategy, workers, lo, point, hi, **kw):
    """A cell whose speedup and 95% interval are set by hand (10 pairs whose ratios give
    them)."""
    return ratios_cell(workload, kind, strategy, workers, lo, point, hi, **kw)


def cpu_run(threads, procs, usable=2, **kw):
    cells = [cell("fib", "cpu", "serial", 1, 1.0)]
    if threads:
        cells.append(gain("fib", "cpu", "threads", 2, *threads, **kw))
    if procs:
        cells.append(gain("fib", "cpu", "pool_map", 2, *procs))
    r = results(cells)
    return dataclasses.replace(r, machine={**r.machine, "usable_cpus": usable})


@pytest.mark.parametrize("threads, procs, usable, expected, said", [
    ((0.95, 1.0, 1.05), (1.8, 1.9, 1.95), 2, F.HOLDS, "the GIL lets one thread"),
    ((1.5, 1.7, 1.9), (1.8, 1.9, 1.95), 2, F.UNMEASURED, "can decide"),  # ✗: 1x is all
    # the GIL allows threads on pure Python, so a gain is the machine, never evidence
    ((0.9, 1.0, 1.3), (1.8, 1.9, 1.95), 2, F.CANT_TELL, None),  # threads straddle the bar
    ((0.95, 1.0, 1.05), (0.9, 1.0, 1.1), 2, F.CANT_TELL, "no parallelism"),  # nor processes
    ((0.95, 1.0, 1.05), None, 2, F.CANT_TELL, "no evidence"),  # no process control
    ((0.95, 1.0, 1.0), (0.9, 0.95, 1.0), 1, F.ONE_CPU, "one usable CPU"),
])
def test_threads_on_cpu_every_branch(threads, procs, usable, expected, said):
    v, text = F.threads_on_cpu(cpu_run(threads, procs, usable))
    assert v == expected
    if said:
        assert said in text
    assert ("GIL lets one thread" in text) is (expected == F.HOLDS)  # only when it agrees
    assert expected == F.UNMEASURED or "n=10" in text  # every interval with its pairs


def test_a_noisy_cell_decides_by_its_interval_an_impossible_one_not_at_all():
    # Flagged noisy (wider than the target) but its interval is honest: still evidence.
    assert verdict(F.threads_on_cpu, cpu_run((0.95, 1.0, 1.05), (1.8, 1.9, 1.95),
                                              noisy=True)) == F.HOLDS
    v, text = F.threads_on_cpu(cpu_run((0.95, 1.0, 1.05), (1.8, 1.9, 1.95),
                                       serial_times_s=()))
    assert v == F.UNMEASURED and "can decide" in text  # no interval: no evidence
    # Threads at 2.3x on 2 CPUs with 2 workers: more than the CPUs allow, so not evidence.
    over = cpu_run((2.2, 2.3, 2.4), (1.8, 1.9, 1.95))
    assert F.threads_on_cpu(over)[0] == F.UNMEASURED


@pytest.mark.parametrize("procs, usable, expected", [
    ((1.8, 1.9, 1.95), 2, F.HOLDS),
    ((0.9, 1.0, 1.1), 2, F.FAILS),
    ((1.1, 1.3, 1.5), 2, F.CANT_TELL),
    ((0.9, 0.95, 1.0), 1, F.ONE_CPU),
])
def test_processes_use_cores_every_branch(procs, usable, expected):
    assert verdict(F.processes_use_cores, cpu_run(None, procs, usable)) == expected


def test_processes_use_cores_not_measured():
    assert verdict(F.processes_use_cores, cpu_run((0.95, 1.0, 1.05), None)) == F.UNMEASURED


@pytest.mark.parametrize("io, native, usable, expected", [
    ((3.5, 3.8, 3.9), (1.7, 1.8, 1.9), 2, F.FAILS),   # threads gain: the folklore fails
    ((0.9, 1.0, 1.1), (0.9, 1.0, 1.1), 2, F.HOLDS),
    ((1.0, 1.3, 1.6), (1.0, 1.3, 1.6), 2, F.CANT_TELL),
    ((3.5, 3.8, 3.9), (0.9, 1.0, 1.0), 1, F.FAILS),   # 1 CPU: IO alone decides
])
def test_threads_in_general_every_branch(io, native, usable, expected):
    cells = [cell("sleep", "io", "serial", 1, 1.0), gain("sleep", "io", "threads", 4, *io),
             cell("zlib", "native", "serial", 1, 1.0),
             gain("zlib", "native", "threads", 2, *native)]
    r = results(cells)
    r = dataclasses.replace(r, machine={**r.machine, "usable_cpus": usable})
    v, text = F.threads_in_general(r)
    assert v == expected
    assert ("GIL is released" in text) is (expected == F.FAILS)
    assert ("native work left out" in text) is (usable == 1)


def test_threads_in_general_not_measured():
    assert verdict(F.threads_in_general, cpu_run((0.95, 1.0, 1.05), None)) == F.UNMEASURED


def test_explanations_only_where_the_numbers_agree():
    prims = [sync("pipe", "processes", 30 * US), sync("queue", "processes", 60 * US)]
    slow = F.pipe_queue_vs_primitives(results(sync=[*prims, sync("lock", "processes",
                                                                   200 * US)]))[1]
    fast = F.pipe_queue_vs_primitives(results(sync=[*prims, sync("lock", "processes",
                                                                   10 * US)]))[1]
    assert "futex" not in slow and "futex" in fast

    def share(tq):
        return F.threads_share_cheaply(results(ipc=[
            ipc("thread_queue", 64, tq[0], model="threads"), ipc("pipe", 64, 50 * US),
            ipc("thread_queue", 2**20, tq[1], model="threads"), ipc("pipe", 2**20, 500 * US)]))

    v, text = share((10 * US, 100 * US))
    assert v == F.HOLDS and "a reference" in text
    v, text = share((100 * US, 1 * MS))
    assert v == F.FAILS and "reference" not in text and "GIL hand-offs" not in text
    v, text = share((10 * US, 1 * MS))
    assert v == F.DEPENDS and "GIL hand-offs" in text


def test_a_missing_control_is_not_measured():
    threads_only = [lat("threads", 0, 0.1 * MS), lat("threads", 2, 20 * MS)]
    assert verdict(F.gil_latency, results(latency=threads_only)) == F.UNMEASURED
    spin = sync("raw_value", "threads", 5 * MS)
    assert verdict(F.busy_wait_handover, results(sync=[spin])) == F.UNMEASURED
    v, text = F.busy_wait_handover(results(sync=[spin, sync("raw_value", "processes",
                                                            10 * US)]))
    assert v == F.HOLDS and "keeps the GIL" in text
    v, text = F.busy_wait_handover(results(sync=[sync("raw_value", "threads", 10 * US),
                                                 sync("raw_value", "processes", 20 * US)]))
    assert v == F.FAILS and "keeps the GIL" not in text


def test_every_finding_carries_its_rule():
    got = F.findings(results())
    assert all(f.rule and f.verdict in F.VERDICTS for f in got)


def without_gil(r):
    """The same record, measured on an interpreter whose GIL was off throughout."""
    return dataclasses.replace(
        r, machine={**r.machine, "free_threaded_build": True, "gil_enabled": False},
        cells=tuple(dataclasses.replace(c, gil_enabled_in_workers=False) for c in r.cells))


def test_the_threads_claim_is_decided_per_interpreter():
    # Threads gain on pure Python: "does not hold" on either interpreter, explained by the
    # missing GIL only where it was missing.
    gaining = cpu_run((1.6, 1.8, 1.9), (1.7, 1.85, 1.95))
    v, text = F.threads_on_cpu(without_gil(gaining))
    assert v == F.FAILS and "ran without a GIL" in text
    v, text = F.threads_on_cpu(gaining)  # with the GIL: above its 1x ceiling, no evidence
    assert v == F.UNMEASURED and "without a GIL" not in text
    # Threads do not gain while processes do: the GIL is no explanation where there was none.
    stuck = cpu_run((0.95, 1.0, 1.05), (1.8, 1.9, 1.95))
    v, text = F.threads_on_cpu(without_gil(stuck))
    assert v == F.HOLDS and "GIL lets one thread" not in text and "although" in text
    # The GIL back on in the thread cells: the interpreter had it after all.
    back = dataclasses.replace(without_gil(stuck), cells=tuple(
        dataclasses.replace(c, gil_enabled_in_workers=True) for c in stuck.cells))
    assert "GIL lets one thread" in F.threads_on_cpu(back)[1]


# ------------------------------------------------------------ cost rules decide on intervals


@pytest.mark.parametrize("lock, spread, expected", [
    (200 * US, 0.02, F.HOLDS),      # surely slower than both carriers
    (10 * US, 0.02, F.FAILS),       # surely faster than both
    (31 * US, 0.02, F.FAILS),       # the same as Pipe within 5%: surely not slower
    (70 * US, 0.5, F.CANT_TELL),    # its interval straddles Queue's
])
def test_pipe_and_queue_every_branch_on_intervals(lock, spread, expected):
    entries = [sync("pipe", "processes", 30 * US), sync("queue", "processes", 60 * US),
               *(sync(n, "processes", lock, spread) for n in ("lock", "event", "semaphore",
                                                             "condition"))]
    assert verdict(F.pipe_queue_vs_primitives, results(sync=entries)) == expected


def test_sharing_costs_cannot_tell_when_intervals_overlap():
    wide = results(ipc=[ipc("pipe", 64, 50 * US), ipc("shared_memory", 64, 52 * US, spread=0.3),
                        ipc("manager", 64, 200 * US)])
    v, text = F.sharing_costs(wide)
    assert v == F.CANT_TELL and "not apart at this precision" in text


def test_threads_share_cheaply_cannot_tell_when_intervals_overlap():
    v, _ = F.threads_share_cheaply(results(ipc=[
        ipc("thread_queue", 64, 45 * US, model="threads", spread=0.3), ipc("pipe", 64, 50 * US),
        ipc("thread_queue", 2**20, 100 * US, model="threads"), ipc("pipe", 2**20, 500 * US)]))
    assert v == F.CANT_TELL


@pytest.mark.parametrize("p99, expected", [(200 * US, F.HOLDS), (2.0, F.FAILS),
                                           (1.0, F.CANT_TELL)])
def test_apply_async_every_branch(p99, expected):
    e = dataclasses.replace(sync("apply_async", "processes", p99 / 2), p99_s=p99,
                            p99_ci95_s=around(p99, 0.1))
    assert verdict(F.apply_async_fast, results(sync=[e])) == expected
    bare = dataclasses.replace(e, p99_ci95_s=None)
    assert verdict(F.apply_async_fast, results(sync=[bare])) == F.CANT_TELL


def test_gil_latency_every_branch_and_its_second_cpu():
    si = 0.005
    holds = [lat("threads", 0, 0.1 * MS), lat("threads", 2, 20 * MS), lat("processes", 2,
                                                                          0.2 * MS)]
    assert verdict(F.gil_latency, results(latency=holds)) == F.HOLDS
    # Threads' p99 interval reaches below the switch interval: can't tell.
    near = [*holds[:1], lat("threads", 2, 5.1 * MS, spread=0.2), holds[2]]
    assert verdict(F.gil_latency, results(latency=near)) == F.CANT_TELL
    # Too few pings for a p99 interval: can't tell, and says so.
    few = [dataclasses.replace(e, p99_ci95_s=None) for e in holds]
    v, text = F.gil_latency(results(latency=few))
    assert v == F.CANT_TELL and "370 pings" in text
    # The process control needs a second CPU; a file that does not say has none known.
    one = results(latency=holds)
    one = dataclasses.replace(one, machine={**one.machine, "usable_cpus": 1})
    assert verdict(F.gil_latency, one) == F.ONE_CPU
    unknown = dataclasses.replace(one, machine={**one.machine, "usable_cpus": 0})
    assert verdict(F.gil_latency, unknown) == F.CANT_TELL
    assert si == holds[0].switch_interval_s


def test_busy_wait_every_branch_and_its_second_cpu():
    def run(threads, procs, usable=2, spread=0.02):
        r = results(sync=[sync("raw_value", "threads", threads, spread),
                          sync("raw_value", "processes", procs)])
        return verdict(F.busy_wait_handover,
                       dataclasses.replace(r, machine={**r.machine, "usable_cpus": usable}))

    assert run(5 * MS, 10 * US) == F.HOLDS
    assert run(10 * US, 20 * US) == F.FAILS
    assert run(10.1 * US, 10 * US, spread=0.01) == F.FAILS  # the same within 5%: not slower
    assert run(12 * US, 10 * US, spread=0.3) == F.CANT_TELL
    assert run(5 * MS, 10 * US, usable=1) == F.ONE_CPU
    assert run(5 * MS, 10 * US, usable=0) == F.CANT_TELL


def test_unknown_usable_cpus_are_not_several():
    r = cpu_run((0.95, 1.0, 1.05), (1.8, 1.9, 1.95), usable=0)
    assert verdict(F.threads_on_cpu, r) == F.CANT_TELL
    assert verdict(F.processes_use_cores, r) == F.CANT_TELL


def test_order_follows_the_intervals_and_the_tie_band():
    assert F.order((2.0, 2.2), (1.0, 1.1)) == F.SLOWER
    assert F.order((1.0, 1.1), (2.0, 2.2)) == F.FASTER
    assert F.order((1.0, 1.02), (1.01, 1.03)) == F.SAME
    assert F.order((1.0, 1.3), (1.1, 1.2)) == F.UNSURE
    assert F.order(None, (1.0, 1.1)) == F.UNSURE


def test_a_p99_past_the_bar_needs_only_its_lower_end():
    # 150 pings under CPU-bound threads: too few for a p99's upper end, but its lower end
    # (88 ms against a 5 ms switch interval) already decides which side of the bar it is.
    thr = dataclasses.replace(lat("threads", 2, 88 * MS), p99_ci95_s=(40 * MS, None))
    holds = [lat("threads", 0, 0.1 * MS), thr, lat("processes", 2, 0.2 * MS)]
    assert verdict(F.gil_latency, results(latency=holds)) == F.HOLDS
    assert "88 ms [40 ms–?]" in F.gil_latency(results(latency=holds))[1]
    # The processes' side needs its upper end to be below the bar: without it, can't tell.
    prc = dataclasses.replace(lat("processes", 2, 0.2 * MS), p99_ci95_s=(0.1 * MS, None))
    v, text = F.gil_latency(results(latency=[holds[0], thr, prc]))
    assert v == F.CANT_TELL and "370 pings" in text
